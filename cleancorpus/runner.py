"""Streams documents through steps, in worker processes, preserving input order.

A per-document step is a picklable ``fn(doc, cfg) -> doc``. Consecutive steps are fused and
run together on chunks of documents in a process pool with a bounded number of chunks in
flight, so memory does not grow with the corpus and output order equals input order whatever
the number of workers. An exception in a step marks that one document ``error``; the run goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

from cleancorpus.document import Document, DocumentError

StepFn = Callable[[Document, Any], Document]


@dataclass(frozen=True)
class Step:
    """One named per-document step with its configuration (both must pickle)."""

    name: str
    fn: StepFn
    cfg: Any = None
    # Also run on documents that are no longer ``kept`` (e.g. a step that only records state).
    all_docs: bool = False


def run_steps(doc: Document, steps: tuple[Step, ...]) -> Document:
    for step in steps:
        if not (doc.active or step.all_docs):
            continue
        try:
            doc = step.fn(doc, step.cfg)
        except DocumentError as exc:
            doc.fail(str(exc))
        except Exception as exc:  # a bug or a library failure on this input: keep the run going
            doc.fail(f"{step.name}: {type(exc).__name__}: {exc}")
    return doc


_worker_steps: tuple[Step, ...] = ()


def _init_worker(steps: tuple[Step, ...]) -> None:
    global _worker_steps
    _worker_steps = steps


def _run_chunk(docs: list[Document]) -> list[Document]:
    return [run_steps(doc, _worker_steps) for doc in docs]


def resolve_jobs(jobs: int) -> int:
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def parallel_map(
    steps: tuple[Step, ...], docs: Iterable[Document], jobs: int, chunk_size: int
) -> Iterator[Document]:
    """``run_steps`` over ``docs``, in order; ``jobs`` > 1 uses that many worker processes."""
    if not steps:
        yield from docs
        return
    jobs = resolve_jobs(jobs)
    if jobs <= 1:
        for doc in docs:
            yield run_steps(doc, steps)
        return
    # forkserver: workers never inherit the parent's threads (progress display) or locks.
    ctx = multiprocessing.get_context("forkserver")
    it = iter(docs)
    window: deque[Future[list[Document]]] = deque()
    with ProcessPoolExecutor(
        jobs, mp_context=ctx, initializer=_init_worker, initargs=(steps,)
    ) as pool:
        while True:
            while len(window) < jobs * 4:
                chunk = list(islice(it, chunk_size))
                if not chunk:
                    break
                window.append(pool.submit(_run_chunk, chunk))
            if not window:
                return
            yield from window.popleft().result()


class Spool:
    """Documents parked on disk between the passes of a corpus-level step, read back in order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="cleancorpus-spool-")
        self.count = 0

    def add(self, doc: Document) -> None:
        pickle.dump(doc, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[Document]:
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()
