"""``--engine ray``: the same pipeline on a Ray cluster, with the same output as the local engine.

Documents travel as pickled bytes in an Arrow column next to their input position ``i``, so
every stage runs through the very step functions the local runner uses
(:func:`cleancorpus.runner.run_chunk` over :func:`cleancorpus.pipeline.processor`'s steps) in
Ray Data ``map_batches``. The corpus-level barriers are distributed:

- strip's template lines: each document's line keys leave the map as a column, are counted by
  ``(group, key)`` in a Ray groupby, and only the keys seen in ``template_min_docs`` documents
  come back to the driver; the strip step then runs with them as a map.
- dedup: signatures are computed in the map; exact hashes and LSH band hashes are shuffled by
  key across the cluster, each partition finds and verifies its candidate pairs with the dedup
  package's own functions; only the edges come back, and union-find over them on the driver
  gives the clusters. The verdicts then go out to the documents in one more map.

Any other barrier (dedup with a persistent ``--index``, which must read and lock the index in
one place) runs its local ``gather`` on the driver over the ordered stream. Output order is
input order: Ray Data's ``preserve_order`` keeps map outputs in input order, and the driver
checks the positions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import ray
import ray.data

from cleancorpus import pipeline
from cleancorpus.config import Frozen
from cleancorpus.document import DUPLICATE, Document, DocumentError
from cleancorpus.io import load_raw
from cleancorpus.runner import Step, resolve_jobs, run_chunk

# A block of the source dataset: enough documents for a task to amortise its overhead, few
# enough bytes that a block never strains a worker or the object store.
_BLOCK_DOCS = 256
_BLOCK_BYTES = 8 << 20
_OBJECT_STORE_BYTES = 500 << 20
_DOCS = pa.schema([("i", pa.int64()), ("doc", pa.binary())])


# ---------------------------------------------------------------------------------------------
# Entry point


def run(
    inputs: list[str],
    source: Iterable[Document],
    stages: list[str],
    cfg: Frozen,
    env: pipeline.RunEnv,
    address: str | None = None,
) -> Iterator[Document]:
    """The documents after ``stages``, in input order: what the local engine yields.

    ``address``: None starts a local Ray instance for this run (or uses the one this process
    already started), ``"auto"`` or ``"ray://HOST:PORT"`` connect to a running cluster.
    ``inputs`` are read by ``source`` on the driver (the local reader), so ids, groups, order
    and read errors are the local engine's by construction.
    """
    procs = [pipeline.processor(stage, cfg) for stage in stages]
    with _session(address, env), _data_context():
        yield from _Run(env).execute(source, procs)


@contextlib.contextmanager
def _session(address: str | None, env: pipeline.RunEnv) -> Iterator[None]:
    """Connect to Ray for the run; disconnect (and stop a local instance) only if we started it."""
    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is None:
        # "local": a new instance even if another one runs on this machine (ray.init without
        # an address would join that one, or whatever RAY_ADDRESS names).
        kwargs.update(
            address="local",
            num_cpus=max(2, resolve_jobs(env.jobs)),
            include_dashboard=False,
            object_store_memory=_OBJECT_STORE_BYTES,
        )
    else:
        kwargs["address"] = address
    ray.init(**kwargs)
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _data_context() -> Iterator[None]:
    """Ordered maps, no progress bars, and the pull-based sort shuffle for the groupbys.

    Ray Data's default hash shuffle starts aggregator actors for every groupby: about 20 s
    per groupby on a 2-CPU instance before any work; the sort shuffle runs as plain tasks.
    """
    from ray.data.context import ShuffleStrategy

    ctx = ray.data.DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.shuffle_strategy)
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    data_log = logging.getLogger("ray.data")
    level = data_log.level
    data_log.setLevel(logging.ERROR)  # per-dataset INFO lines would drown the summary
    try:
        yield
    finally:
        (
            ctx.execution_options.preserve_order,
            ctx.enable_progress_bars,
            ctx.shuffle_strategy,
        ) = saved
        data_log.setLevel(level)


# ---------------------------------------------------------------------------------------------
# Per-document work in Ray tasks


def _map_docs(
    table: pa.Table, steps: tuple[Step, ...], harvest: Any = None, verdicts: Any = None
) -> pa.Table:
    """Run ``steps`` on each document of the batch; optionally apply dedup verdicts first and
    take a barrier's per-document facts out of the documents into columns afterwards."""
    positions = table.column("i").to_pylist()
    docs: list[Document] = [pickle.loads(blob) for blob in table.column("doc").to_pylist()]
    if verdicts is not None:
        for i, doc in zip(positions, docs, strict=True):
            _apply_verdict(doc, verdicts.get(i))
    docs = run_chunk(docs, steps)
    rows: list[Any] = [harvest.take(doc) for doc in docs] if harvest is not None else []
    docs_out = [pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL) for doc in docs]
    columns = {"i": pa.array(positions, pa.int64()), "doc": pa.array(docs_out, pa.binary())}
    if harvest is not None:
        columns.update(harvest.columns(rows))
    return pa.table(columns)


def _apply_verdict(doc: Document, verdict: tuple[str, str | None] | None) -> None:
    """What ``pipeline.gather_dedup`` does with a verdict (this run only: nothing historical)."""
    doc.extra.pop("sig", None)
    if not doc.active:
        return
    if verdict is None:  # a singleton
        doc.cluster = None
        return
    doc.cluster, duplicate_of = verdict
    if duplicate_of is not None:
        doc.status, doc.duplicate_of = DUPLICATE, duplicate_of


class _LineKeys:
    """strip's first pass: the line keys leave the document (as ``gather_templates`` pops them)."""

    def take(self, doc: Document) -> tuple[str, np.ndarray]:
        # As int64 (the same 64 bits): sort-based shuffles handle signed keys only.
        keys = np.array(sorted(doc.extra.pop("line_keys", None) or ()), dtype=np.uint64)
        return doc.group, keys.view(np.int64)

    def columns(self, rows: list[tuple[str, np.ndarray]]) -> dict[str, pa.Array]:
        return {
            "group": pa.array([g for g, _ in rows], pa.string()),
            "keys": pa.array([k for _, k in rows], pa.list_(pa.int64())),
        }


class _Signatures:
    """dedup's map side: the signature leaves the document as columns (``gather_dedup`` pops it)."""

    def __init__(self, bands: int, sketch_bytes: int, min_shingles: int) -> None:
        self.bands, self.sketch_bytes, self.min_shingles = bands, sketch_bytes, min_shingles

    def take(self, doc: Document) -> Any:
        sig = doc.extra.pop("sig", None)
        if not (doc.active and sig is not None):
            return None  # not given to the deduper locally either
        if len(sig.bands) != self.bands:
            raise ValueError("signature computed with different dedup parameters")
        return (
            doc.id,
            int(sig.exact),
            np.asarray(sig.bands, dtype=np.uint64),
            np.asarray(sig.sketch, dtype=np.uint8),
            sig.shingles >= self.min_shingles and sig.shingles > 0,
            min(len(doc.text or ""), 0xFFFFFFFF),  # the Deduper keeps lengths as uint32
        )

    def columns(self, rows: list[Any]) -> dict[str, pa.Array]:
        n = len(rows)
        bands = np.zeros((n, self.bands), dtype=np.uint64)
        sketch = np.zeros((n, self.sketch_bytes), dtype=np.uint8)
        for r, row in enumerate(rows):
            if row is not None:
                bands[r], sketch[r] = row[2], row[3]
        return {
            "sig": pa.array([row is not None for row in rows], pa.bool_()),
            "id": pa.array([row[0] if row else None for row in rows], pa.string()),
            "exact": pa.array([row[1] if row else 0 for row in rows], pa.uint64()),
            "bands": _fixed_list(bands),
            "sketch": _fixed_list(sketch),
            "eligible": pa.array([bool(row and row[4]) for row in rows], pa.bool_()),
            "length": pa.array([row[5] if row else 0 for row in rows], pa.uint32()),
        }


def _fixed_list(matrix: np.ndarray) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def _matrix(column: pa.ChunkedArray | pa.Array, width: int, dtype: type) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    flat = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=dtype).reshape(-1, width)


# ---------------------------------------------------------------------------------------------
# Template lines: a distributed count by (group, key)


def _explode_keys(table: pa.Table) -> pa.Table:
    keys = table.column("keys").combine_chunks()
    lengths = keys.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    groups = np.repeat(np.arange(len(table)), lengths)
    return pa.table({"group": table.column("group").take(pa.array(groups)), "key": keys.flatten()})


def _frequent(table: pa.Table, min_docs: int) -> pa.Table:
    counts = table.column("count()").to_numpy(zero_copy_only=False)
    return table.filter(pa.array(counts >= min_docs))


# ---------------------------------------------------------------------------------------------
# Dedup: exact and band hashes shuffled by key, pairs found and verified per partition

_EXACT = -1  # the ``kind`` of an exact-hash row; band rows carry their band number
_U64 = (1 << 64) - 1


def _explode_bands(table: pa.Table, partitions: int, bands: int, sketch_bytes: int) -> pa.Table:
    """One row per (document, exact hash) and per (eligible document, band hash)."""
    ok = np.asarray(table.column("sig").to_numpy(zero_copy_only=False), dtype=bool)
    table = table.filter(pa.array(ok))
    n = len(table)
    i = table.column("i").to_numpy()
    exact = np.asarray(table.column("exact").to_numpy(), dtype=np.uint64)
    band = _matrix(table.column("bands"), bands, np.uint64)
    eligible = np.flatnonzero(
        np.asarray(table.column("eligible").to_numpy(zero_copy_only=False), dtype=bool)
    )
    # Rows: every document's exact hash, then each eligible document's bands, band-major.
    src = np.concatenate([np.arange(n), np.tile(eligible, bands)]).astype(np.int64)
    kind = np.concatenate([np.full(n, _EXACT), np.repeat(np.arange(bands), len(eligible))])
    key = np.concatenate([exact, band[eligible].T.reshape(-1)]).astype(np.uint64)
    take = pa.array(src)
    return pa.table(
        {
            "part": pa.array((key % np.uint64(partitions)).astype(np.int64)),
            "kind": pa.array(kind.astype(np.int16)),
            "key": pa.array(key.view(np.int64)),
            "i": pa.array(i[src]),
            "exact": pa.array(exact[src].view(np.int64)),  # signed: see _LineKeys
            "sketch": table.column("sketch").take(take),
            "id": table.column("id").take(take),
            "length": table.column("length").take(take),
        }
    )


_EDGES = pa.schema(
    [
        ("a", pa.int64()),
        ("b", pa.int64()),
        ("a_id", pa.string()),
        ("b_id", pa.string()),
        ("a_len", pa.uint32()),
        ("b_len", pa.uint32()),
    ]
)


def _partition_edges(table: pa.Table, settings: tuple[int, int, bool, float, int]) -> pa.Table:
    """The verified (earlier, later) pairs among the buckets of one partition.

    Every member of a bucket (same kind and key) is in the same partition, so the dedup
    package's ``pairs_within`` over a partition finds the pairs it finds over the corpus.
    """
    from cleancorpus.dedup.lsh import pairs_within, sketch_jaccard

    window, num_perm, verify, threshold, sketch_bytes = settings
    if len(table) == 0:
        return _EDGES.empty_table()
    kind = table.column("kind").to_numpy()
    i = table.column("i").to_numpy()
    key = table.column("key").to_numpy()
    exact = table.column("exact").to_numpy()
    sketch = _matrix(table.column("sketch"), sketch_bytes, np.uint8)
    found = []
    for k in np.unique(kind).tolist():
        rows = np.flatnonzero(kind == k)
        rows = rows[np.argsort(i[rows], kind="stable")]  # members in input order
        if k == _EXACT:
            pairs = rows[pairs_within(key[rows], np.arange(len(rows)), 1)]
            found.append(pairs.reshape(-1, 2))
            continue
        pairs = rows[pairs_within(key[rows], np.arange(len(rows)), window)].reshape(-1, 2)
        pairs = pairs[exact[pairs[:, 0]] != exact[pairs[:, 1]]]  # exact pairs are merged anyway
        if verify and len(pairs):
            sims = sketch_jaccard(sketch[pairs[:, 0]], sketch[pairs[:, 1]], num_perm)
            pairs = pairs[sims >= threshold]
        found.append(pairs)
    pairs = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
    a, b = pa.array(pairs[:, 0]), pa.array(pairs[:, 1])
    return pa.table(
        {
            "a": pa.array(i[pairs[:, 0]], pa.int64()),
            "b": pa.array(i[pairs[:, 1]], pa.int64()),
            "a_id": table.column("id").take(a),
            "b_id": table.column("id").take(b),
            "a_len": table.column("length").take(a),
            "b_len": table.column("length").take(b),
        },
        schema=_EDGES,
    )


def _verdicts(edges: Iterable[pa.Table], keep: str) -> dict[int, tuple[str, str | None]]:
    """Connected components of the edges; the kept member by the Deduper's rule.

    Returns ``(cluster, duplicate_of)`` by input position, for the documents in some pair only.
    Positions order the documents as the Deduper's row numbers do, so "first" (the smallest)
    and "longest" (ties to the earliest) pick the same member.
    """
    from cleancorpus.dedup.lsh import components, kept_nodes, sorted_unique

    ends: list[np.ndarray] = []
    lens: list[np.ndarray] = []
    names: dict[int, str] = {}
    for t in edges:
        if not len(t):
            continue
        for side in ("a", "b"):
            pos = t.column(side).to_numpy()
            ends.append(pos)
            lens.append(np.asarray(t.column(f"{side}_len").to_numpy(), dtype=np.int64))
            names.update(zip(pos.tolist(), t.column(f"{side}_id").to_pylist(), strict=True))
    if not ends:
        return {}
    half = len(ends) // 2
    a = np.concatenate(ends[0::2]) if half else np.zeros(0, np.int64)
    b = np.concatenate(ends[1::2]) if half else np.zeros(0, np.int64)
    nodes = sorted_unique(np.concatenate((a, b)))
    root = components(
        len(nodes), np.stack((np.searchsorted(nodes, a), np.searchsorted(nodes, b)), axis=1)
    )
    length = np.zeros(len(nodes), dtype=np.int64)
    length[np.searchsorted(nodes, np.concatenate(ends))] = np.concatenate(lens)
    kept = kept_nodes(nodes, root, int(nodes[-1]) + 1, keep, length)
    out: dict[int, tuple[str, str | None]] = {}
    for pos, k in zip(nodes.tolist(), kept.tolist(), strict=True):
        cluster = names[k]
        out[pos] = (cluster, None if pos == k else cluster)
    return out


# ---------------------------------------------------------------------------------------------
# The fold


class _Run:
    def __init__(self, env: pipeline.RunEnv) -> None:
        self.env = env
        cpus = int(ray.cluster_resources().get("CPU", 2))
        self.partitions = max(2, 2 * cpus)

    def execute(
        self, source: Iterable[Document], procs: list[pipeline.Processor]
    ) -> Iterator[Document]:
        """``pipeline.run``'s fold, with Ray datasets between the barriers."""
        ds = self._ingest(source)
        pending: tuple[Step, ...] = ()
        for proc in procs:
            if isinstance(proc, pipeline.Map):
                pending += proc.steps
            elif isinstance(proc, pipeline.Barrier) and proc.gather is pipeline.gather_templates:
                ds, pending = self._templates(ds, pending + proc.pre)
            elif (
                isinstance(proc, pipeline.Barrier)
                and proc.gather is pipeline.gather_dedup
                and not self.env.index
            ):
                ds, pending = self._dedup(ds, pending + proc.pre)
            elif isinstance(proc, pipeline.Barrier):
                # The barrier's own gather on the driver, over the ordered stream.
                stream = self._iterate(self._map(ds, pending + proc.pre))
                size = self.env.chunk_size
                out, pending = proc.gather(
                    pipeline.pack_documents(stream, proc.take, size), self.env
                )
                ds = self._ingest(pipeline.documents(out))
            else:
                ds = self._ingest(proc.fn(self._iterate(self._map(ds, pending))))
                pending = ()
        yield from self._iterate(self._map(ds, pending))

    # ---- datasets of documents ---------------------------------------------------------------

    def _ingest(self, docs: Iterable[Document]) -> ray.data.Dataset:
        """Documents into the object store block by block, tagged with their input position."""
        refs = []
        blobs: list[bytes] = []
        size = start = 0
        limit = self.env.cfg["io"]["max_bytes"]
        for n, doc in enumerate(docs):
            # Files are read here, on the driver: cluster nodes need not see its paths.
            try:
                load_raw(doc, limit)
            except DocumentError as exc:
                doc.fail(str(exc))
            blob = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
            blobs.append(blob)
            size += len(blob)
            if len(blobs) >= _BLOCK_DOCS or size >= _BLOCK_BYTES:
                refs.append(ray.put(self._block(start, blobs)))
                start, blobs, size = n + 1, [], 0
        if blobs or not refs:
            refs.append(ray.put(self._block(start, blobs)))
        return ray.data.from_arrow_refs(refs)

    @staticmethod
    def _block(start: int, blobs: list[bytes]) -> pa.Table:
        positions = pa.array(range(start, start + len(blobs)), pa.int64())
        return pa.Table.from_arrays([positions, pa.array(blobs, pa.binary())], schema=_DOCS)

    @staticmethod
    def _map(
        ds: ray.data.Dataset, steps: tuple[Step, ...], harvest: Any = None, verdicts: Any = None
    ) -> ray.data.Dataset:
        if not steps and harvest is None and verdicts is None:
            return ds
        return ds.map_batches(
            _map_docs,
            batch_format="pyarrow",
            batch_size=None,
            fn_kwargs={"steps": steps, "harvest": harvest, "verdicts": verdicts},
        )

    @staticmethod
    def _iterate(ds: ray.data.Dataset) -> Iterator[Document]:
        expected = 0
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            for i, blob in zip(
                batch.column("i").to_pylist(), batch.column("doc").to_pylist(), strict=True
            ):
                if i != expected:
                    raise RuntimeError(f"ray engine: document {i} arrived where {expected} belongs")
                expected += 1
                yield pickle.loads(blob)

    # ---- barriers ----------------------------------------------------------------------------

    def _templates(
        self, ds: ray.data.Dataset, steps: tuple[Step, ...]
    ) -> tuple[ray.data.Dataset, tuple[Step, ...]]:
        """``pipeline.gather_templates``, with the count by (group, key) done by the cluster."""
        cfg = self.env.cfg["strip"]
        ds = self._map(ds, steps, harvest=_LineKeys()).materialize()
        counts = (
            ds.select_columns(["group", "keys"])
            .map_batches(_explode_keys, batch_format="pyarrow", batch_size=None)
            .groupby(["group", "key"], num_partitions=self.partitions)
            .count()
            .map_batches(
                _frequent,
                batch_format="pyarrow",
                batch_size=None,
                fn_kwargs={"min_docs": cfg["template_min_docs"]},
            )
        )
        templates: dict[str, dict[int, int]] = {}
        for batch in counts.iter_batches(batch_format="pyarrow", batch_size=None):
            for group, key, n in zip(
                batch.column("group").to_pylist(),
                batch.column("key").to_pylist(),
                batch.column("count()").to_pylist(),
                strict=True,
            ):
                templates.setdefault(group, {})[key & _U64] = n
        return ds.select_columns(["i", "doc"]), (
            Step("strip", pipeline.strip_step, (cfg, templates)),
        )

    def _dedup(
        self, ds: ray.data.Dataset, steps: tuple[Step, ...]
    ) -> tuple[ray.data.Dataset, tuple[Step, ...]]:
        """``pipeline.gather_dedup`` without an index: bands shuffled, edges to the driver."""
        from cleancorpus.dedup import Deduper

        # The Deduper parses and checks the dedup settings exactly as the local run does.
        with Deduper(self.env.cfg["dedup"]) as dd:
            p, window, verify, threshold = dd.p, dd.window, dd.verify, dd.threshold
            min_shingles, keep = dd.min_shingles, dd.keep
        sketch_bytes = (p.num_perm + 1) // 2
        harvest = _Signatures(p.bands, sketch_bytes, min_shingles)
        ds = self._map(ds, steps, harvest=harvest).materialize()
        edges = (
            ds.select_columns(["i", "sig", "id", "exact", "bands", "sketch", "eligible", "length"])
            .map_batches(
                _explode_bands,
                batch_format="pyarrow",
                batch_size=None,
                fn_kwargs={
                    "partitions": self.partitions,
                    "bands": p.bands,
                    "sketch_bytes": sketch_bytes,
                },
            )
            .groupby("part", num_partitions=self.partitions)
            .map_groups(
                _partition_edges,
                batch_format="pyarrow",
                fn_kwargs={"settings": (window, p.num_perm, verify, threshold, sketch_bytes)},
            )
        )
        verdicts = _verdicts(edges.iter_batches(batch_format="pyarrow", batch_size=None), keep)
        docs = self._map(ds.select_columns(["i", "doc"]), (), verdicts=verdicts)
        return docs, ()
