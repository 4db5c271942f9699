"""Near-duplicate detection (SPEC step 6): corpus-level, so not a per-document stage.

Workers compute :func:`signature` for each cleaned document; the parent feeds them, in input
order, to a :class:`Deduper`, whose :meth:`Deduper.finish` returns one :class:`Verdict` per
document::

    with Deduper(cfg["dedup"], index="seen.npz") as dd:
        for doc_id, text in docs:
            dd.add(doc_id, signature(text, cfg["dedup"]), len(text))
        verdicts = dd.finish()

Exact duplicates (same matching text) first, then MinHash LSH near-duplicates (bands from
the threshold as datasketch derives them), each candidate pair optionally checked against the
threshold; clusters by union-find; the kept member is the first in input order, or the longest.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import NamedTuple

import numpy as np

from cleancorpus.config import ConfigError, Frozen
from cleancorpus.dedup.index import (
    Batch,
    DedupIndexError,
    FileIndex,
    IdTable,
    IndexLockedError,
    RedisIndex,
    _no_matches,
    open_index,
)
from cleancorpus.dedup.lsh import (
    components,
    kept_nodes,
    pairs_within,
    sketch_jaccard,
    sorted_unique,
    unique_pairs,
)
from cleancorpus.dedup.minhash import Signature, matching_view, params, signature, signatures

__all__ = [
    "DedupIndexError",
    "Deduper",
    "IndexLockedError",
    "Signature",
    "Verdict",
    "check_config",
    "matching_view",
    "signature",
    "signatures",
]

_BLOCK = 1 << 12


class Verdict(NamedTuple):
    """What dedup decided for one document.

    ``duplicate_of``: the kept document's id (possibly an earlier run's) or None if kept;
    ``cluster``: the kept member's id, shared by the whole cluster, None for singletons;
    ``historical``: the duplicate_of document comes from the index of an earlier run;
    ``similarity``: estimated Jaccard with the kept document (1.0 for exact duplicates).
    """

    duplicate_of: str | None
    cluster: str | None
    historical: bool
    similarity: float | None


_SINGLE = Verdict(None, None, False, None)


class _Column:
    """A growable array in fixed-size blocks: no 2x over-allocation, no copy on growth."""

    def __init__(self, width: int, dtype: type) -> None:
        self.width, self.dtype = width, dtype
        self.blocks: list[np.ndarray] = []
        self.n = 0

    def append(self, row: object) -> None:
        i = self.n % _BLOCK
        if i == 0:
            shape = (_BLOCK, self.width) if self.width else (_BLOCK,)
            self.blocks.append(np.empty(shape, dtype=self.dtype))
        self.blocks[-1][i] = row
        self.n += 1

    def extend(self, rows: np.ndarray) -> None:
        done = 0
        while done < len(rows):
            i = self.n % _BLOCK
            if i == 0:
                shape = (_BLOCK, self.width) if self.width else (_BLOCK,)
                self.blocks.append(np.empty(shape, dtype=self.dtype))
            take = min(_BLOCK - i, len(rows) - done)
            self.blocks[-1][i : i + take] = rows[done : done + take]
            self.n += take
            done += take

    def array(self) -> np.ndarray:
        shape = (0, self.width) if self.width else (0,)
        if not self.blocks:
            return np.empty(shape, dtype=self.dtype)
        return np.concatenate(self.blocks)[: self.n]

    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.blocks)


class _Ids:
    """Document ids as one UTF-8 buffer plus offsets (a list of str costs ~60 bytes more each)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.off = _Column(0, np.int64)
        self.off.append(0)

    def append(self, doc_id: str) -> None:
        self.buf += doc_id.encode("utf-8", "surrogatepass")
        self.off.append(len(self.buf))

    def __getitem__(self, i: int) -> str:
        b, e = (
            self.off.blocks[i // _BLOCK][i % _BLOCK],
            self.off.blocks[(i + 1) // _BLOCK][(i + 1) % _BLOCK],
        )
        return self.buf[b:e].decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return self.off.n - 1

    def nbytes(self) -> int:
        return len(self.buf) + self.off.nbytes()

    def select(self, keep: np.ndarray) -> IdTable:
        """The ids where ``keep`` is True, as one buffer (no str object per id)."""
        off = self.off.array()
        lens = np.diff(off)
        blob = np.frombuffer(bytes(self.buf), dtype=np.uint8)[np.repeat(keep, lens)]
        new_off = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
        np.cumsum(lens[keep], out=new_off[1:])
        return IdTable(blob, new_off)


class Deduper:
    """Collects signatures in input order and clusters them in :meth:`finish`.

    ``index``: None, a file path (embedded ``.npz`` index) or ``redis://HOST:PORT/DB``. The
    index is opened (and locked) here; a second run on the same index waits ``lock_timeout``
    seconds (default: ``cfg["lock_timeout"]``), then raises :class:`IndexLockedError`.
    """

    def __init__(
        self, cfg: Frozen, index: str | None = None, lock_timeout: float | None = None
    ) -> None:
        self.cfg = cfg
        self.p = params(cfg)
        self.threshold = float(cfg["threshold"])
        self.verify = bool(cfg["verify"])
        self.window = max(1, int(cfg["candidate_window"]))
        self.min_shingles = int(cfg["min_shingles"])
        self.keep = str(cfg["keep"])
        if self.keep not in ("first", "longest"):
            raise ValueError(f"dedup keep must be 'first' or 'longest', not {self.keep!r}")
        timeout = float(cfg["lock_timeout"] if lock_timeout is None else lock_timeout)
        self.index: FileIndex | RedisIndex | None = None
        if index:
            self.index = open_index(str(index), self.p, timeout, str(cfg["redis_basename"]))
        keep_values = isinstance(self.index, RedisIndex)
        nb = (self.p.num_perm + 1) // 2
        self._ids = _Ids()
        self._exact = _Column(0, np.uint64)
        self._bands = _Column(self.p.bands, np.uint64)
        self._sketch = _Column(nb, np.uint8)
        self._length = _Column(0, np.uint32)
        self._eligible = _Column(0, np.bool_)
        self._values = _Column(self.p.num_perm, np.uint32) if keep_values else None
        self._pending: list[tuple[str, Signature, int]] = []
        self._finished = False

    # ---- context manager -------------------------------------------------------------------

    def __enter__(self) -> Deduper:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the index lock (without saving, unless :meth:`finish` did)."""
        if self.index is not None:
            self.index.close()

    # ---- input -----------------------------------------------------------------------------

    def add(self, doc_id: str, sig: Signature, length: int) -> None:
        """Add the next document (input order); ``length`` is its cleaned text's length."""
        if self._finished:
            raise RuntimeError("Deduper.add after finish")
        if len(sig.bands) != self.p.bands or len(sig.hashvalues) != self.p.num_perm:
            raise ValueError("signature computed with different dedup parameters")
        # Buffered, then moved into the arrays a block at a time: per-row numpy writes would
        # cost more than everything else the parent does per document.
        self._pending.append((doc_id, sig, length))
        if len(self._pending) >= _BLOCK:
            self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        for doc_id, _, _ in pending:
            self._ids.append(doc_id)
        sigs = [sig for _, sig, _ in pending]
        self._exact.extend(np.array([s.exact for s in sigs], dtype=np.uint64))
        self._bands.extend(np.stack([s.bands for s in sigs]))
        self._sketch.extend(np.stack([s.sketch for s in sigs]))
        self._length.extend(np.array([min(n, 0xFFFFFFFF) for _, _, n in pending], dtype=np.uint32))
        self._eligible.extend(
            np.array([s.shingles >= self.min_shingles and s.shingles > 0 for s in sigs])
        )
        if self._values is not None:
            self._values.extend(np.stack([s.hashvalues for s in sigs]))

    def __len__(self) -> int:
        return len(self._ids) + len(self._pending)

    def nbytes(self) -> int:
        """Bytes held for the documents added so far (arrays and ids)."""
        self._flush()
        cols = [self._exact, self._bands, self._sketch, self._length, self._eligible, self._values]
        return self._ids.nbytes() + sum(c.nbytes() for c in cols if c is not None)

    # ---- clustering ------------------------------------------------------------------------

    def _pairs(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Verified (earlier, later) pairs among this run's documents, and their similarity."""
        n = len(batch.exact)
        rows = np.arange(n)
        parts = [pairs_within(batch.exact, rows, 1)]
        exact_pairs = unique_pairs(parts)
        el = np.flatnonzero(batch.eligible)
        near = unique_pairs(
            [pairs_within(batch.bands[el, k], el, self.window) for k in range(self.p.bands)]
        )
        if near.size:
            # Exact pairs are merged anyway; skip re-checking them.
            same = batch.exact[near[:, 0]] == batch.exact[near[:, 1]]
            near = near[~same]
        sims = sketch_jaccard(batch.sketch[near[:, 0]], batch.sketch[near[:, 1]], self.p.num_perm)
        if self.verify:
            ok = sims >= self.threshold
            near, sims = near[ok], sims[ok]
        return (
            np.concatenate((exact_pairs, near)),
            np.concatenate((np.ones(len(exact_pairs)), sims)),
        )

    def finish(self) -> list[Verdict]:
        """Cluster everything added, save the index if any, and return verdicts in input order."""
        if self._finished:
            raise RuntimeError("Deduper.finish called twice")
        self._finished = True
        self._flush()
        n = len(self._ids)
        batch = Batch(
            exact=self._exact.array(),
            bands=self._bands.array(),
            sketch=self._sketch.array(),
            eligible=self._eligible.array(),
            values=self._values.array() if self._values is not None else None,
        )
        lengths = self._length.array()
        # The blocks were copied into the batch arrays: drop them to halve the peak memory.
        for col in (
            self._exact,
            self._bands,
            self._sketch,
            self._length,
            self._eligible,
            self._values,
        ):
            if col is not None:
                col.blocks = []
        pairs, _ = self._pairs(batch)
        if self.index is not None:
            m = self.index.match(batch, self.window, self.verify, self.threshold)
            old_pairs = m.pairs.copy()
            old_pairs[:, 1] += n  # old documents are nodes n, n+1, ... (oldest first)
            old_ids = m.old_ids
        else:
            m = _no_matches(self.p)
            old_pairs, old_ids = m.pairs, []

        verdicts: list[Verdict] = [_SINGLE] * n  # one shared object: most documents are unique
        # Components over the documents in some pair only (usually a small share of them).
        nodes = sorted_unique(np.concatenate((pairs.reshape(-1), old_pairs.reshape(-1))))
        if len(nodes) == 0:
            self._save(verdicts, batch)
            return verdicts
        edges = np.searchsorted(nodes, np.concatenate((pairs, old_pairs)))
        root = components(len(nodes), edges)
        new_idx = np.flatnonzero(nodes < n)
        node_lengths = np.zeros(len(nodes), dtype=np.int64)
        node_lengths[new_idx] = lengths[nodes[new_idx]]
        member = nodes[new_idx]
        kept_of = kept_nodes(nodes, root, n, self.keep, node_lengths)[new_idx]
        dup = kept_of != member
        sims = np.ones(len(member))
        d_new = dup & (kept_of < n)
        d_old = dup & (kept_of >= n)
        i_new, k_new = member[d_new], kept_of[d_new]
        sims[d_new] = np.where(
            batch.exact[i_new] == batch.exact[k_new],
            1.0,
            sketch_jaccard(batch.sketch[i_new], batch.sketch[k_new], self.p.num_perm),
        )
        i_old, k_old = member[d_old], kept_of[d_old] - n
        sims[d_old] = np.where(
            batch.exact[i_old] == m.old_exact[k_old],
            1.0,
            sketch_jaccard(batch.sketch[i_old], m.old_sketch[k_old], self.p.num_perm),
        )
        names: dict[int, str] = {}
        for i, k, is_dup, sim in zip(
            member.tolist(), kept_of.tolist(), dup.tolist(), sims.tolist(), strict=True
        ):
            cluster = names.get(k)
            if cluster is None:
                cluster = names[k] = old_ids[k - n] if k >= n else self._ids[k]
            if is_dup:
                verdicts[i] = Verdict(cluster, cluster, k >= n, round(sim, 4))
            else:
                verdicts[i] = Verdict(None, cluster, False, None)
        self._save(verdicts, batch)
        return verdicts

    def _save(self, verdicts: list[Verdict], batch: Batch) -> None:
        if self.index is not None:
            keep = np.fromiter(
                (v.duplicate_of is None for v in verdicts), dtype=bool, count=len(verdicts)
            )
            self.index.add(self._ids.select(keep), batch, np.flatnonzero(keep))
            self.index.save()
            self.index.close()


def check_config(cfg: Frozen) -> None:
    """Raise ConfigError when the [dedup] settings cannot be used: a threshold outside (0, 1]
    (NaN would silently turn near-duplicate detection off), too few permutations, an unknown
    ``keep``, weights that are not two non-negative numbers with a positive sum."""
    try:
        threshold = float(cfg["threshold"])
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"dedup.threshold must be in (0, 1], not {threshold}")
        if int(cfg["num_perm"]) < 2:
            raise ValueError(f"dedup.num_perm must be at least 2, not {cfg['num_perm']}")
        if cfg["keep"] not in ("first", "longest"):
            raise ValueError(f"dedup.keep must be 'first' or 'longest', not {cfg['keep']!r}")
        weights = [float(w) for w in cfg["weights"]]
        if len(weights) != 2 or not all(w >= 0 for w in weights) or not sum(weights) > 0:
            raise ValueError(f"dedup.weights must be two non-negative numbers, not {weights}")
        params(cfg)
    except Exception as exc:
        raise ConfigError(str(exc) if str(exc).startswith("dedup.") else f"dedup: {exc}") from None


def dedup_ids(ids: Sequence[str], texts: Sequence[str], cfg: Frozen) -> list[Verdict]:
    """Convenience for small in-memory corpora and tests: signatures, add, finish."""
    sigs = signatures(list(texts), cfg)
    with Deduper(cfg) as dd:
        for doc_id, sig, text in zip(ids, sigs, texts, strict=True):
            dd.add(doc_id, sig, len(text))
        return dd.finish()
