"""Persistent dedup indexes: an embedded ``.npz`` file (default) or Redis via datasketch.

Both answer one question for a batch of new documents -- which earlier documents do they
duplicate -- and accept the new kept documents. The file index holds compact arrays (band
hashes, exact hashes, 4-bit sketches, ids), is saved atomically (temp file + fsync +
``os.replace``) and guarded by a ``<path>.lock`` file lock held for the whole run.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from cleancorpus.dedup.lsh import pairs_against, sketch_jaccard, sorted_unique, unique_pairs
from cleancorpus.dedup.minhash import Params
from cleancorpus.io import temp_beside

FORMAT = "cleancorpus-dedup-index/1"


class DedupIndexError(Exception):
    """The index cannot be read or does not fit this configuration (one-line message)."""


class IndexLockedError(DedupIndexError):
    """Another run holds the index lock and did not release it within the timeout."""


@dataclass
class Batch:
    """The new documents of a run, as compact arrays (row i = i-th added document)."""

    exact: np.ndarray  # (N,) uint64
    bands: np.ndarray  # (N, bands) uint64
    sketch: np.ndarray  # (N, num_perm/2) uint8
    eligible: np.ndarray  # (N,) bool: enough shingles for LSH
    values: np.ndarray | None  # (N, num_perm) uint32, kept only when the index needs them


@dataclass
class Matches:
    """Earlier documents that new ones duplicate: ``pairs`` rows are (new row, old node),
    ``old_ids[node]`` names the old document, ``old_rank[node]`` orders them (oldest first)."""

    pairs: np.ndarray
    similarity: np.ndarray
    old_ids: list[str]
    old_rank: list[int]
    old_exact: np.ndarray  # (k,) uint64
    old_sketch: np.ndarray  # (k, num_perm/2) uint8


def fingerprint(p: Params) -> dict[str, Any]:
    return {"format": FORMAT, **p._asdict()}


def open_index(spec: str, p: Params, lock_timeout: float, basename: str) -> FileIndex | RedisIndex:
    if spec.startswith("redis://"):
        return RedisIndex(spec, p, lock_timeout, basename)
    return FileIndex(Path(spec), p, lock_timeout)


def _no_matches(p: Params) -> Matches:
    nb = (p.num_perm + 1) // 2
    return Matches(
        np.zeros((0, 2), np.int64),
        np.zeros(0),
        [],
        [],
        np.zeros(0, np.uint64),
        np.zeros((0, nb), np.uint8),
    )


def _encode_ids(ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    raw = [i.encode("utf-8", "surrogatepass") for i in ids]
    off = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in raw], out=off[1:])
    return np.frombuffer(b"".join(raw), dtype=np.uint8), off


class IdTable:
    """Ids as one UTF-8 buffer plus offsets; decoded one at a time, only when needed."""

    def __init__(self, blob: np.ndarray, off: np.ndarray) -> None:
        self.data = blob.tobytes()
        self.off = off.astype(np.int64, copy=False)

    def __len__(self) -> int:
        return len(self.off) - 1

    def __getitem__(self, i: int) -> str:
        return self.data[self.off[i] : self.off[i + 1]].decode("utf-8", "surrogatepass")

    @classmethod
    def of(cls, ids: Sequence[str]) -> IdTable:
        return cls(*_encode_ids(ids))

    def key(self, i: int) -> bytes:
        return self.data[self.off[i] : self.off[i + 1]]

    def extend(self, other: IdTable) -> None:
        self.off = np.concatenate((self.off, other.off[1:] + len(self.data)))
        self.data += other.data

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.frombuffer(self.data, dtype=np.uint8), self.off


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FileIndex:
    """An ``.npz`` index file; holds its lock from construction to :meth:`close`."""

    def __init__(self, path: Path, p: Params, lock_timeout: float) -> None:
        from filelock import FileLock, Timeout

        self.path = path
        self.params = p
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise DedupIndexError(f"dedup index {path}: directory {parent} does not exist")
        if path.is_dir():
            raise DedupIndexError(f"dedup index {path} is a directory, not an index file")
        self._lock = FileLock(str(path) + ".lock")
        try:
            self._lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise IndexLockedError(
                f"dedup index {path} is locked by another run (waited {lock_timeout:g} s; "
                f"lock file {path}.lock)"
            ) from None
        try:
            self._load()
        except BaseException:
            self._lock.release()
            raise

    def _load(self) -> None:
        p = self.params
        nb = (p.num_perm + 1) // 2
        self.exact = np.zeros(0, dtype=np.uint64)
        self.bands = np.zeros((0, p.bands), dtype=np.uint64)
        self.sketch = np.zeros((0, nb), dtype=np.uint8)
        self.eligible = np.zeros(0, dtype=bool)
        self.ids = IdTable(np.zeros(0, np.uint8), np.zeros(1, np.int64))
        if not self.path.exists():
            return
        try:
            with np.load(self.path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes().decode("utf-8"))
                arrays = {
                    k: z[k] for k in ("exact", "bands", "sketch", "eligible", "id_blob", "id_off")
                }
        except (
            OSError,
            ValueError,
            KeyError,
            zipfile.BadZipFile,
            EOFError,
            UnicodeDecodeError,
        ) as exc:
            raise DedupIndexError(
                f"cannot read dedup index {self.path}: {type(exc).__name__}: {exc}".splitlines()[0]
            ) from None
        want = fingerprint(p)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DedupIndexError(f"cannot read dedup index {self.path}: not a {FORMAT} file")
        for key, value in want.items():
            if meta.get(key) != value:
                raise DedupIndexError(
                    f"dedup index {self.path} was built with {key}={meta.get(key)!r}, "
                    f"this run uses {value!r}"
                )
        n = len(arrays["exact"])
        shapes_ok = (
            arrays["bands"].shape == (n, p.bands)
            and arrays["sketch"].shape == (n, nb)
            and arrays["eligible"].shape == (n,)
            and arrays["id_off"].shape == (n + 1,)
            and int(arrays["id_off"][-1]) == len(arrays["id_blob"])
        )
        if not shapes_ok:
            raise DedupIndexError(f"cannot read dedup index {self.path}: inconsistent array shapes")
        self.exact = arrays["exact"].astype(np.uint64, copy=False)
        self.bands = arrays["bands"].astype(np.uint64, copy=False)
        self.sketch = arrays["sketch"].astype(np.uint8, copy=False)
        self.eligible = arrays["eligible"].astype(bool, copy=False)
        off = arrays["id_off"]
        if n and (int(off[0]) != 0 or bool(np.any(np.diff(off) < 0))):
            raise DedupIndexError(f"cannot read dedup index {self.path}: bad id offsets")
        self.ids = IdTable(arrays["id_blob"], off)

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, batch: Batch, window: int, verify: bool, threshold: float) -> Matches:
        n_old = len(self.ids)
        if n_old == 0 or len(batch.exact) == 0:
            return _no_matches(self.params)
        rows = np.arange(len(batch.exact))
        # Exact: the earliest old document with the same matching-text hash.
        order = np.argsort(self.exact, kind="stable")
        so = self.exact[order]
        pos = np.searchsorted(so, batch.exact)
        pos_c = np.minimum(pos, n_old - 1)
        hit = so[pos_c] == batch.exact
        exact_pairs = np.stack((rows[hit], order[pos_c[hit]]), axis=1)
        # Near: band collisions between eligible new and eligible old documents.
        new_el = np.flatnonzero(batch.eligible)
        old_el = np.flatnonzero(self.eligible)
        parts = []
        for k in range(self.params.bands):
            got = pairs_against(batch.bands[new_el, k], new_el, self.bands[old_el, k], window)
            got[:, 1] = old_el[got[:, 1]]
            parts.append(got)
        near = unique_pairs(parts)
        sims = sketch_jaccard(
            batch.sketch[near[:, 0]], self.sketch[near[:, 1]], self.params.num_perm
        )
        if verify:
            near, sims = near[sims >= threshold], sims[sims >= threshold]
        pairs = np.concatenate((exact_pairs, near))
        sim = np.concatenate((np.ones(len(exact_pairs)), sims))
        # Renumber the old documents involved as nodes 0..k-1, oldest first.
        olds = sorted_unique(pairs[:, 1])
        node = np.searchsorted(olds, pairs[:, 1])
        pairs = np.stack((pairs[:, 0], node.reshape(-1)), axis=1)
        return Matches(
            pairs,
            sim,
            [self.ids[i] for i in olds],
            [int(i) for i in olds],
            self.exact[olds],
            self.sketch[olds],
        )

    def add(self, ids: IdTable, batch: Batch, rows: np.ndarray) -> None:
        """Append ``rows`` of the batch. Each batch column is released once copied, so the
        peak holds one extra column rather than a second copy of everything."""
        for name in ("exact", "bands", "sketch", "eligible"):
            setattr(self, name, np.concatenate((getattr(self, name), getattr(batch, name)[rows])))
            setattr(batch, name, None)
        self.ids.extend(ids)

    def save(self) -> None:
        """Write to a temp file beside the index, fsync, then rename over it: a crash at any
        point leaves either the old index or the new one, never a torn file."""
        blob, off = self.ids.arrays()
        meta = np.frombuffer(json.dumps(fingerprint(self.params)).encode("utf-8"), dtype=np.uint8)
        directory = self.path.parent if str(self.path.parent) else Path(".")
        fd, tmp = temp_beside(directory / self.path.name)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    meta=meta,
                    exact=self.exact,
                    bands=self.bands,
                    sketch=self.sketch,
                    eligible=self.eligible,
                    id_blob=blob,
                    id_off=off,
                )
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(directory)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def close(self) -> None:
        if self._lock.is_locked:
            self._lock.release()


class RedisIndex:
    """datasketch ``MinHashLSH`` with Redis storage (keys ``<basename>_bucket_*``,
    ``<basename>_keys``), plus two hashes of our own beside it: ``<basename>_meta`` (id ->
    8-byte insertion rank + 4-bit sketch) and ``<basename>_exact`` (exact hash -> first id).
    """

    def __init__(self, url: str, p: Params, lock_timeout: float, basename: str) -> None:
        import redis
        from datasketch import MinHashLSH

        parsed = urlparse(url)
        try:
            db = int((parsed.path or "/0").lstrip("/") or 0)
            host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        except ValueError:
            raise DedupIndexError(
                f"bad Redis index URL {url!r} (want redis://HOST:PORT/DB)"
            ) from None
        self.params = p
        self.url = url
        self.base = basename.encode("utf-8")
        self.r = redis.Redis(host=host, port=port, db=db)
        try:
            # One quick attempt: an unreachable server is a usage error, not worth retrying.
            redis.Redis(host=host, port=port, db=db, retry=None, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            raise DedupIndexError(f"cannot reach Redis index {url}: {exc}") from None
        self._lock = self.r.lock(
            (basename + "_lock"),
            timeout=None,
            blocking_timeout=None if lock_timeout < 0 else lock_timeout,
        )
        if not self._lock.acquire():
            raise IndexLockedError(
                f"dedup index {url} (basename {basename}) is locked by another run "
                f"(waited {lock_timeout:g} s)"
            )
        try:
            want = json.dumps(fingerprint(p), sort_keys=True)
            self.r.setnx(self.base + b"_params", want)
            have = self.r.get(self.base + b"_params")
            if have is None or have.decode("utf-8") != want:
                raise DedupIndexError(
                    f"dedup index {url} (basename {basename}) was built with other parameters: "
                    f"{have.decode('utf-8') if have else None}"
                )
            self.lsh = MinHashLSH(
                num_perm=p.num_perm,
                params=(p.bands, p.rows),
                storage_config={
                    "type": "redis",
                    "basename": self.base,
                    "redis": {"host": host, "port": port, "db": db},
                },
                prepickle=False,
            )
        except BaseException:
            self._lock.release()
            raise

    def __len__(self) -> int:
        return int(self.r.hlen(self.base + b"_meta"))

    def _lean(self, values: np.ndarray) -> Any:
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.params.seed, hashvalues=values, scheme="affine32")

    def match(self, batch: Batch, window: int, verify: bool, threshold: float) -> Matches:
        assert batch.values is not None
        n = len(batch.exact)
        exact_keys = [int(e).to_bytes(8, "big") for e in batch.exact]
        exact_ids = self.r.hmget(self.base + b"_exact", exact_keys) if n else []
        pairs: list[tuple[int, bytes]] = []
        sims: list[float] = []
        for i, oid in enumerate(exact_ids):
            if oid is not None:
                pairs.append((i, oid))
                sims.append(1.0)
        cands: list[tuple[int, bytes]] = []
        for i in np.flatnonzero(batch.eligible):
            found = sorted(self.lsh.query(self._lean(batch.values[i])))
            cands.extend((int(i), k) for k in found)
        if cands:
            metas = self.r.hmget(self.base + b"_meta", [k for _, k in cands])
            for (i, key), meta in zip(cands, metas, strict=True):
                if meta is None:
                    continue
                sk = np.frombuffer(meta[16:], dtype=np.uint8)
                s = float(sketch_jaccard(batch.sketch[i], sk, self.params.num_perm))
                if not verify or s >= threshold:
                    pairs.append((i, key))
                    sims.append(s)
        keys = sorted({k for _, k in pairs})
        metas = self.r.hmget(self.base + b"_meta", keys) if keys else []
        ranks = [int.from_bytes(m[:8], "big") if m else 0 for m in metas]
        order = sorted(range(len(keys)), key=lambda j: (ranks[j], keys[j]))
        node = {keys[j]: pos for pos, j in enumerate(order)}
        arr = np.array([(i, node[k]) for i, k in pairs], dtype=np.int64).reshape(-1, 2)
        if not keys:
            return _no_matches(self.params)
        return Matches(
            arr,
            np.array(sims, dtype=float),
            [keys[j].decode("utf-8", "surrogatepass") for j in order],
            [ranks[j] for j in order],
            np.array([int.from_bytes(metas[j][8:16], "big") for j in order], dtype=np.uint64),
            np.stack([np.frombuffer(metas[j][16:], dtype=np.uint8) for j in order]),
        )

    def add(self, ids: IdTable, batch: Batch, rows: np.ndarray) -> None:
        assert batch.values is not None
        if len(rows) == 0:
            return
        start = int(self.r.incrby(self.base + b"_seq", len(rows))) - len(rows)
        pipe = self.r.pipeline(transaction=True)
        keys = [ids.key(i) for i in range(len(ids))]
        existing = self.r.hmget(self.base + b"_meta", keys)
        with self.lsh.insertion_session() as session:
            for n, (key, row, had) in enumerate(zip(keys, rows, existing, strict=True)):
                if had is not None:
                    continue  # an id indexed before keeps its first entry (datasketch keys are unique)
                meta = (
                    (start + n).to_bytes(8, "big")
                    + int(batch.exact[row]).to_bytes(8, "big")
                    + batch.sketch[row].tobytes()
                )
                pipe.hset(self.base + b"_meta", key, meta)
                pipe.hsetnx(self.base + b"_exact", int(batch.exact[row]).to_bytes(8, "big"), key)
                if batch.eligible[row]:
                    session.insert(key, self._lean(batch.values[row]), check_duplication=False)
        pipe.execute()

    def save(self) -> None:
        """Redis writes happen in :meth:`add`; nothing is buffered here."""

    def close(self) -> None:
        try:
            self._lock.release()
        except Exception:  # the lock expired or the connection is gone: nothing to release
            pass
