"""Stages as processors: per-document steps, corpus-level barriers, and the fold that runs them.

A pipeline is a list of processors, the imagepipe way. ``Map`` processors hold per-document
steps; adjacent ones are fused into one pass over a worker pool. A ``Barrier`` (template-line
counting for strip, dedup) needs the whole corpus: it adds its per-document ``pre`` steps to the
pass before it, then ``gather`` consumes that pass (parking documents on disk), and hands back
the documents with steps to run after it.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cleancorpus.config import ConfigError, Frozen
from cleancorpus.dedup import Deduper, signatures
from cleancorpus.dedup import check_config as dedup_check_config
from cleancorpus.document import DUPLICATE, EMPTY, Document
from cleancorpus.io import load_raw
from cleancorpus.runner import Chunk, Spool, Step, Take, Workers, chunked, pack, unpack
from cleancorpus.stages import convert as convert_mod
from cleancorpus.stages import decode as decode_mod
from cleancorpus.stages import fix as fix_mod
from cleancorpus.stages import strip as strip_mod
from cleancorpus.stages.strip import line_keys, strip

TextStage = Callable[[str, Any], tuple[str, Counter[str]]]


@dataclass(frozen=True)
class Map:
    steps: tuple[Step, ...]


# Per chunk: what ``take`` extracted from each document, and the chunk (parked, pickled, or
# the documents themselves when the pass ran in this process).
Packed = Iterator[tuple[list[Any], Chunk]]


@dataclass(frozen=True)
class Barrier:
    """``pre`` steps end the pass before the barrier; ``take`` (in the workers) hands ``gather``
    what it needs of each document, with the chunk pickled; ``gather`` returns the chunks to go
    on with and the steps to run on them."""

    name: str
    pre: tuple[Step, ...]
    take: Take
    gather: Callable[[Packed, RunEnv], tuple[Iterable[Chunk], tuple[Step, ...]]]


Processor = Map | Barrier


@dataclass
class RunEnv:
    cfg: Frozen
    index: str | None = None
    lock_timeout: float | None = None

    @property
    def jobs(self) -> int:
        return int(self.cfg["run"]["jobs"])

    @property
    def chunk_size(self) -> int:
        return max(1, int(self.cfg["run"]["chunk_size"]))


# ---------------------------------------------------------------------------------------------
# Per-document steps (module-level so that they pickle into worker processes)


def decode_step(doc: Document, cfg_and_limit: tuple[Frozen, int]) -> Document:
    cfg, max_bytes = cfg_and_limit
    load_raw(doc, max_bytes)
    if doc.raw is None:  # a JSON record: already text
        doc.encoding = doc.encoding or "utf-8"
        doc.confidence = 1.0 if doc.confidence is None else doc.confidence
    else:
        result = decode_mod.decode(doc.raw, cfg)
        doc.text, doc.encoding, doc.confidence = result.text, result.encoding, result.confidence
        doc.changes.update(result.changes)
        doc.raw = None
    if doc.text is None:
        doc.text = ""
    doc.chars_in = len(doc.text)
    return doc


def text_step(stage: TextStage, doc: Document, cfg: Frozen) -> Document:
    text, changes = stage(doc.text or "", cfg)
    doc.text = text
    doc.changes.update(changes)
    return doc


def filter_step(doc: Document, cfg: Frozen) -> Document:
    if len((doc.text or "").strip()) < cfg["min_chars"]:
        doc.status = EMPTY
    return doc


def strip_keys_step(doc: Document, cfg: Frozen) -> Document:
    doc.extra["line_keys"] = line_keys(doc.text or "", cfg)
    return doc


def strip_step(
    doc: Document, cfg_and_template: tuple[Frozen, dict[str, dict[int, int]]]
) -> Document:
    cfg, templates = cfg_and_template
    text, changes = strip(doc.text or "", cfg, templates.get(doc.group, {}))
    doc.text = text
    doc.changes.update(changes)
    return doc


def signature_step(docs: list[Document], cfg: Frozen) -> list[Document]:
    """Signatures of a chunk at once (the same values as one by one, in fewer numpy calls)."""
    for doc, sig in zip(docs, signatures([doc.text or "" for doc in docs], cfg), strict=True):
        doc.extra["sig"] = sig
    return docs


# ---------------------------------------------------------------------------------------------
# Barriers


def take_keys(doc: Document) -> tuple[str, set[int] | None]:
    return doc.group, doc.extra.pop("line_keys", None)


def gather_templates(packed: Packed, env: RunEnv) -> tuple[Iterable[Chunk], tuple[Step, ...]]:
    """First pass of strip: count, per source group, the documents each short line occurs in."""
    cfg = env.cfg["strip"]
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    spool = _spool(env)
    for metas, chunk in packed:
        for group, keys in metas:
            if keys:
                counts[group].update(keys)
        spool.add(chunk)
    k = cfg["template_min_docs"]
    templates = {g: {key: n for key, n in c.items() if n >= k} for g, c in counts.items()}
    return _drain_spool(spool), (Step("strip", strip_step, (cfg, templates)),)


def _spool(env: RunEnv) -> Spool:
    return Spool(int(env.cfg["run"]["spool_memory_mb"] * (1 << 20)))


def _drain_spool(spool: Spool) -> Iterator[Chunk]:
    try:
        yield from spool
    finally:
        spool.close()


def take_signature(doc: Document) -> tuple[str, Any, int] | None:
    sig = doc.extra.pop("sig", None)
    return (doc.id, sig, len(doc.text or "")) if doc.active and sig is not None else None


def gather_dedup(packed: Packed, env: RunEnv) -> tuple[Iterable[Chunk], tuple[Step, ...]]:
    """Dedup: signatures came from the workers; LSH and clusters here, in input order."""
    spool = _spool(env)
    with Deduper(env.cfg["dedup"], index=env.index, lock_timeout=env.lock_timeout) as deduper:
        for metas, chunk in packed:
            for meta in metas:
                if meta is not None:
                    deduper.add(*meta)
            spool.add(chunk)
        verdicts = iter(deduper.finish())

    def apply() -> Iterator[list[Document]]:
        for chunk in _drain_spool(spool):
            docs = unpack(chunk)
            for doc in docs:
                if doc.active:  # exactly the documents given to the deduper, in the same order
                    verdict = next(verdicts, None)
                    if verdict is not None:
                        doc.cluster = verdict.cluster
                        if verdict.duplicate_of is not None:
                            doc.status, doc.duplicate_of = DUPLICATE, verdict.duplicate_of
                            if verdict.historical:
                                doc.changes["dedup.historical"] += 1
            yield docs

    return apply(), ()


def pack_documents(docs: Iterable[Document], take: Take, size: int) -> Packed:
    """Documents as a barrier's ``gather`` takes them (for engines that produce documents)."""
    return (pack(chunk, take) for chunk in chunked(docs, size))


def documents(chunks: Iterable[Chunk]) -> Iterator[Document]:
    for chunk in chunks:
        yield from unpack(chunk)


# ---------------------------------------------------------------------------------------------
# Building and running


STAGES = ("decode", "fix", "convert", "strip", "filter", "dedup")


def check_config(cfg: Frozen, stages: Iterable[str]) -> None:
    """Raise ConfigError for settings no run could use: a usage error before anything runs,
    not an error on every document (or a run that silently does nothing)."""
    for key, least in (("io.max_bytes", 1), ("run.jobs", 0), ("run.chunk_size", 1)):
        if int(cfg.get_path(key)) < least:
            raise ConfigError(f"{key} must be at least {least}, not {cfg.get_path(key)}")
    fix_mod.check_config(cfg["fix"])
    strip_mod.check_config(cfg["strip"])
    dedup_check_config(cfg["dedup"])
    if "convert" in stages:
        convert_mod.check_config(cfg["convert"])


def processor(stage: str, cfg: Frozen) -> Processor:
    """The processor for one stage, configured from ``cfg`` (the whole config)."""
    if stage == "decode":
        return Map((Step("decode", decode_step, (cfg["decode"], cfg["io"]["max_bytes"])),))
    if stage in ("fix", "convert"):
        fn = fix_mod.fix if stage == "fix" else convert_mod.convert
        return Map((Step(stage, functools.partial(text_step, fn), cfg[stage]),))
    if stage == "strip":
        scfg = cfg["strip"]
        if scfg.get("template_min_docs", 0) > 0:
            keys = Step("strip.keys", strip_keys_step, scfg)
            return Barrier("strip", (keys,), take_keys, gather_templates)
        return Map((Step("strip", strip_step, (scfg, {})),))
    if stage == "filter":
        return Map((Step("filter", filter_step, cfg["filter"]),))
    if stage == "dedup":
        return Barrier(
            "dedup",
            (Step("dedup.signature", signature_step, cfg["dedup"], batch=True),),
            take_signature,
            gather_dedup,
        )
    raise ValueError(f"unknown stage {stage}")


def run(source: Iterable[Document], procs: list[Processor], env: RunEnv) -> Iterator[Document]:
    """Fold the processors over the source lazily; consecutive per-document steps share one pass,
    and all passes share one pool of workers."""
    with Workers(env.jobs, env.chunk_size) as workers:
        stream: Iterable[Chunk] = chunked(source, env.chunk_size)
        pending: tuple[Step, ...] = ()
        for proc in procs:
            if isinstance(proc, Map):
                pending += proc.steps
            else:
                passed = workers.map_chunks(pending + proc.pre, stream, proc.take)
                stream, pending = proc.gather(passed, env)
        for docs in workers.map_chunks(pending, stream):
            yield from docs


def run_one(
    doc: Document,
    stages: Iterable[str],
    cfg: Frozen,
    explain: Callable[[list[tuple[str, str | None, str]]], None] | None = None,
) -> Document:
    """Run per-document stages on one document in this process (``explain``, ``detect``).

    Corpus-level context is absent: no template lines, no dedup. ``explain`` receives strip's
    line-by-line verdicts before strip runs.
    """
    from cleancorpus.runner import run_steps

    for stage in stages:
        if stage == "dedup" or not doc.active:
            continue
        if stage == "strip":
            if explain is not None:
                explain(strip_mod.explain(doc.text or "", cfg["strip"], {}))
            steps: tuple[Step, ...] = (Step("strip", strip_step, (cfg["strip"], {})),)
        else:
            proc = processor(stage, cfg)
            assert isinstance(proc, Map)
            steps = proc.steps
        doc = run_steps(doc, steps)
    return doc
