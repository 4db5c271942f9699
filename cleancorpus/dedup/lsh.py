"""Banding with compact arrays: candidate pairs from sorted band hashes, the sketch-based
Jaccard check, and union-find. No Python object per band entry."""

from __future__ import annotations

import numpy as np

_NIBBLE_LOW_BITS = np.uint64(0x1111111111111111)


def sketch_jaccard(sa: np.ndarray, sb: np.ndarray, num_perm: int) -> np.ndarray:
    """Jaccard estimates from 4-bit packed sketches, row by row.

    Two minima that differ still agree on 4 bits one time in 16, so the raw agreement rate
    ``m`` estimates ``J + (1 - J) / 16``; inverted and clipped to [0, 1].
    """
    x = np.bitwise_xor(sa, sb)
    nbytes = x.shape[-1]
    if nbytes % 8 == 0 and x.flags.c_contiguous:
        # 16 nibbles per 64-bit word: fold each nibble's bits into its lowest bit, then count
        # the nibbles that differ with one popcount per word.
        w = x.view(np.uint64)
        w = w | (w >> np.uint64(1))
        w = w | (w >> np.uint64(2))
        differ = np.bitwise_count(w & _NIBBLE_LOW_BITS).sum(axis=-1, dtype=np.int64)
        same = 2 * nbytes - differ
    else:
        same = np.count_nonzero((x & np.uint8(0xF)) == 0, axis=-1)
        same = same + np.count_nonzero((x >> np.uint8(4)) == 0, axis=-1)
    if num_perm % 2:
        same = same - 1  # the padding nibble always agrees
    m = same / num_perm
    return np.clip((m - 1 / 16) / (15 / 16), 0.0, 1.0)


def pairs_within(keys: np.ndarray, members: np.ndarray, window: int) -> np.ndarray:
    """Candidate pairs among ``members`` (increasing indices) sharing a band key.

    Each member is paired with up to ``window`` earlier members of its bucket. Returns an
    (n, 2) int64 array of (earlier, later) indices.
    """
    if len(members) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    sm = members[order]
    out = []
    for d in range(1, min(window, len(sk) - 1) + 1):
        eq = np.flatnonzero(sk[d:] == sk[:-d])
        if eq.size == 0:
            break  # no bucket holds d+1 members, so none holds more
        out.append(np.stack((sm[eq], sm[eq + d]), axis=1))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return np.concatenate(out)


def pairs_against(
    new_keys: np.ndarray, new_members: np.ndarray, old_keys: np.ndarray, window: int
) -> np.ndarray:
    """(new, old) pairs where a new key equals an old key; up to ``window`` old rows each."""
    if len(new_members) == 0 or len(old_keys) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(old_keys, kind="stable")
    so = old_keys[order]
    lo = np.searchsorted(so, new_keys, side="left")
    hi = np.searchsorted(so, new_keys, side="right")
    n = hi - lo
    out = []
    for d in range(window):
        hit = np.flatnonzero(n > d)
        if hit.size == 0:
            break
        out.append(np.stack((new_members[hit], order[lo[hit] + d]), axis=1))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return np.concatenate(out)


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting: numpy 2.x's hash-based unique is ~20x slower on int64 here."""
    x = np.sort(x, kind="stable")
    if x.size == 0:
        return x
    return x[np.concatenate(([True], x[1:] != x[:-1]))]


def unique_pairs(parts: list[np.ndarray]) -> np.ndarray:
    """Distinct (a, b) rows, sorted; via one int64 key per pair (``unique(axis=0)`` is slow)."""
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    allp = np.concatenate(parts).astype(np.int64)
    if allp.size == 0:
        return allp.reshape(0, 2)
    width = int(allp[:, 1].max()) + 1
    keys = sorted_unique(allp[:, 0] * width + allp[:, 1])
    return np.stack((keys // width, keys % width), axis=1)


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected components of nodes 0..n-1: each node's root, the smallest node of its
    component. Vectorised union-find: hook every edge's larger root onto the smaller, then
    compress paths fully; repeat until no edge joins two roots (a few rounds)."""
    parent = np.arange(n, dtype=np.int64)
    if len(edges) == 0:
        return parent
    u, v = edges[:, 0], edges[:, 1]
    while True:
        ru, rv = parent[u], parent[v]
        lo, hi = np.minimum(ru, rv), np.maximum(ru, rv)
        join = lo != hi
        if not join.any():
            return parent
        np.minimum.at(parent, hi[join], lo[join])
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def kept_nodes(
    nodes: np.ndarray, root: np.ndarray, n_new: int, keep: str, lengths: np.ndarray
) -> np.ndarray:
    """For each node, the node its component keeps (both as node values, i.e. positions).

    ``nodes`` are sorted positions; those ``>= n_new`` are documents of an earlier run (oldest
    first), and a component holding one keeps the oldest. Otherwise the component keeps its
    first document, or with ``keep == "longest"`` its longest (``lengths``, per node), ties to
    the first. ``root`` is :func:`components`' result (each component's smallest node index).
    """
    big = np.iinfo(np.int64).max
    kept = np.full(len(nodes), big, dtype=np.int64)
    old = nodes >= n_new
    np.minimum.at(kept, root[old], nodes[old])
    new_idx = np.flatnonzero(~old)
    if keep == "longest":
        # Longest first, ties to the earliest: maximise length * (n + 1) + (n - position).
        n = int(n_new)
        key = lengths[new_idx].astype(np.int64) * (n + 1) + (n - nodes[new_idx])
        best = np.full(len(nodes), -1, dtype=np.int64)
        np.maximum.at(best, root[new_idx], key)
        kept = np.where(kept == big, n - best % (n + 1), kept)
    else:
        kept = np.where(kept == big, nodes[root], kept)  # root: the component's first node
    return kept[root]
