"""Dedup benchmark: prints figures and ratios, asserts nothing about time.

    python bench/bench_dedup.py                 # everything, with the 1,000,000-document run
    python bench/bench_dedup.py --docs 100000   # a smaller synthetic run

1. Signatures/s: ours (batched and one at a time) against datasketch ``MinHash.update()``
   and ``update_batch()`` on the same documents, in the same run (ratios).
2. Memory per indexed document: our Deduper and index file against datasketch's in-memory
   ``MinHashLSH``.
3. The synthetic run: N short documents (10% planted near-duplicates), signatures in worker
   processes, banding/verification/union-find in the parent (the LSH candidate search rate),
   then a search of new documents against the saved N-document index; wall time, peak RSS.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cleancorpus.config import load_config  # noqa: E402
from cleancorpus.dedup import Deduper, Signature, matching_view, signature, signatures  # noqa: E402

CFG = load_config()["dedup"]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


# ---- 1. signatures -------------------------------------------------------------------------


def bench_signatures() -> None:
    import dedup_corpus
    from datasketch import MinHash

    texts = dedup_corpus.build(
        seed=21, clusters=150, singletons=400, templates=50, overlaps=50
    ).texts
    chars = sum(map(len, texts)) / len(texts)
    print(f"## signatures: {len(texts)} generated documents, {chars:.0f} characters on average")
    signatures(texts[:4], CFG)  # build lookup tables and the OpenCC converter once

    t = time.perf_counter()
    for i in range(0, len(texts), 64):
        signatures(texts[i : i + 64], CFG)
    ours_batch = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    for text in texts:
        signature(text, CFG)
    ours_one = len(texts) / (time.perf_counter() - t)

    # datasketch gets its shingles ready-made (5-grams of our matching view, as bytes), so
    # only its hashing and permutations are timed; ours above starts from the raw text.
    sub = texts[:300]
    shingles = []
    for text in sub:
        view = matching_view(text, CFG).replace(" ", "")
        shingles.append([view[i : i + 5].encode("utf-8") for i in range(max(1, len(view) - 4))])
    t = time.perf_counter()
    for sh in shingles:
        m = MinHash(num_perm=128, seed=1)
        for s in sh:
            m.update(s)
    ds_update = len(sub) / (time.perf_counter() - t)
    t = time.perf_counter()
    for sh in shingles:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(sh)
    ds_batch = len(sub) / (time.perf_counter() - t)
    print(f"ours, signatures() in batches of 64   {ours_batch:10,.0f} docs/s")
    print(f"ours, signature() one at a time       {ours_one:10,.0f} docs/s")
    print(f"datasketch MinHash.update()           {ds_update:10,.0f} docs/s")
    print(f"datasketch MinHash.update_batch()     {ds_batch:10,.0f} docs/s")
    print(
        f"ratios: batched/update {ours_batch / ds_update:.1f}x, batched/update_batch "
        f"{ours_batch / ds_batch:.1f}x, one-at-a-time/update_batch {ours_one / ds_batch:.1f}x"
    )


# ---- 2. memory per indexed document --------------------------------------------------------


def bench_memory(n: int = 20_000) -> None:
    from datasketch import LeanMinHash, MinHashLSH

    print(f"\n## memory per indexed document ({n:,} documents, ids like doc0000001)")
    sigs = signatures(
        [f"第{i}号文件关于加快推进信息通信基础设施建设的实施意见" for i in range(n)], CFG
    )
    tracemalloc.start()
    dd = Deduper(CFG)
    for i, s in enumerate(sigs):
        dd.add(f"doc{i:07d}", s, 30)
    ours = tracemalloc.get_traced_memory()[0] / n
    tracemalloc.stop()
    tracemalloc.start()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for i, s in enumerate(sigs):
        lsh.insert(f"doc{i:07d}", LeanMinHash(seed=1, hashvalues=s.hashvalues, scheme="affine32"))
    theirs = tracemalloc.get_traced_memory()[0] / n
    tracemalloc.stop()
    print(f"ours (Deduper, traced)                {ours:10,.0f} bytes/doc")
    print(
        f"datasketch MinHashLSH (dict storage)  {theirs:10,.0f} bytes/doc  ({theirs / ours:.0f}x)"
    )


# ---- 3. the synthetic run ------------------------------------------------------------------

CHUNK = 10_000
_ALPHABET = np.array(
    [
        ord(c)
        for c in "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
        "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点"
        "从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利"
    ],
    dtype=np.uint32,
)


def synthetic_chunk(k: int, planted: list[tuple[int, int]] | None = None) -> list[str]:
    """Chunk k: short documents (30-120 characters); every tenth is an earlier document of
    the chunk with one character changed (a planted near-duplicate, noted in ``planted``)."""
    rng = np.random.default_rng(1000 + k)
    lengths = rng.integers(30, 121, CHUNK)
    codes = _ALPHABET[rng.integers(0, len(_ALPHABET), int(lengths.sum()))]
    flat = codes.astype("<u4").tobytes().decode("utf-32-le")
    ends = np.cumsum(lengths)
    docs = [flat[e - n : e] for e, n in zip(ends.tolist(), lengths.tolist(), strict=True)]
    for j in range(10, CHUNK, 10):
        i = int(rng.integers(0, j))
        src = docs[i]
        p = int(rng.integers(0, len(src)))
        docs[j] = src[:p] + "新" + src[p + 1 :]
        if planted is not None:
            planted.append((j, i))
    return docs


def true_jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = (
        {a[i : i + n] for i in range(len(a) - n + 1)},
        {b[i : i + n] for i in range(len(b) - n + 1)},
    )
    return len(sa & sb) / len(sa | sb)


def _work(k: int) -> tuple:
    planted: list[tuple[int, int]] = []
    docs = synthetic_chunk(k, planted)
    t = time.perf_counter()
    sigs = signatures(docs, CFG)
    seconds = time.perf_counter() - t
    # Exact Jaccard of the planted pairs, on every tenth chunk (it costs more than MinHash).
    sample = planted if k % 10 == 0 else []
    above = [
        (k * CHUNK + j, k * CHUNK + i) for j, i in sample if true_jaccard(docs[j], docs[i]) >= 0.8
    ]
    return (
        k,
        seconds,
        above,
        np.stack([s.hashvalues for s in sigs]),
        np.stack([s.bands for s in sigs]),
        np.stack([s.sketch for s in sigs]),
        np.array([s.exact for s in sigs], dtype=np.uint64),
        np.array([s.shingles for s in sigs]),
        np.array([len(d) for d in docs]),
    )


def _bounded(pool: Any, chunks: int, jobs: int) -> Iterator[tuple]:
    """Results in order with at most 2 x jobs chunks in flight, as the real runner bounds them
    (an unbounded ``imap`` would pile finished chunks up in the parent)."""
    window: deque = deque()
    for k in range(chunks):
        window.append(pool.apply_async(_work, (k,)))
        if len(window) >= 2 * jobs:
            yield window.popleft().get()
    while window:
        yield window.popleft().get()


def bench_synthetic(ndocs: int, jobs: int) -> None:
    chunks = (ndocs + CHUNK - 1) // CHUNK
    print(f"\n## synthetic run: {chunks * CHUNK:,} short documents, {jobs} worker processes")
    print(f"(load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        index = os.path.join(tmp, "index.npz")
        t_sig = 0.0
        with mp.get_context("fork").Pool(jobs) as pool, Deduper(CFG, index=index) as dd:
            above: list[tuple[int, int]] = []
            worker_seconds = 0.0
            for k, secs, ab, values, bands, sketch, exact, shingles, lengths in _bounded(
                pool, chunks, jobs
            ):
                above.extend(ab)
                worker_seconds += secs
                ta = time.perf_counter()
                for i in range(len(values)):
                    sig = Signature(
                        values[i], bands[i], sketch[i], int(exact[i]), int(shingles[i]), 0
                    )
                    dd.add(f"doc{k * CHUNK + i:07d}", sig, int(lengths[i]))
                t_sig += time.perf_counter() - ta
            t1 = time.perf_counter()
            held = dd.nbytes() / len(dd)
            n = len(dd)
            verdicts = dd.finish()
            t2 = time.perf_counter()
        dups = sum(v.duplicate_of is not None for v in verdicts)
        found = sum(
            verdicts[j].cluster is not None and verdicts[j].cluster == verdicts[i].cluster
            for j, i in above
        )
        size = os.path.getsize(index)
        print(
            f"signatures (workers) + add (parent)   {t1 - t0:8.1f} s  {rate(n, t1 - t0)}  "
            f"(signatures alone: {rate(n, worker_seconds)} per worker; add: {t_sig:.1f} s)"
        )
        print(
            f"LSH: banding, candidates, verify, union-find, save  {t2 - t1:6.1f} s  {rate(n, t2 - t1)}"
            f"  -> {dups:,} duplicates"
        )
        print(
            f"sample of planted copies (1 character changed) with true 5-gram Jaccard >= 0.8: {len(above):,}, "
            f"clustered with their source: {found:,} ({found / max(1, len(above)):.1%})"
        )
        print(f"index held in memory                  {held:8.0f} bytes/doc")
        print(
            f"index file                            {size / n:8.0f} bytes/doc ({size / 2**20:.0f} MiB)"
        )
        print(f"wall time                             {t2 - t0:8.1f} s")
        print(
            f"peak RSS: parent {rss_mb():.0f} MiB, largest worker {rss_mb(resource.RUSAGE_CHILDREN):.0f} MiB"
        )

        # Search new documents against the saved index (copies of indexed ones and new ones).
        probe = synthetic_chunk(0)[:5000] + synthetic_chunk(10**6)[:5000]
        sigs = signatures(probe, CFG)
        t3 = time.perf_counter()
        with Deduper(CFG, index=index) as dd:
            t4 = time.perf_counter()
            for i, s in enumerate(sigs):
                dd.add(f"probe{i}", s, 1)
            got = dd.finish()
        t5 = time.perf_counter()
        hist = sum(v.historical for v in got)
        print(
            f"index search: load {t4 - t3:.1f} s, {len(probe):,} new documents against {n:,} "
            f"in {t5 - t4:.1f} s ({rate(len(probe), t5 - t4)}; includes re-saving), "
            f"{hist:,} found in the index (5,000 expected)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1_000_000, help="documents in the synthetic run")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--skip-datasketch", action="store_true", help="only the synthetic run")
    ap.add_argument(
        "--weights",
        nargs=2,
        type=float,
        metavar=("FP", "FN"),
        help="dedup.weights for bands x rows",
    )
    args = ap.parse_args()
    if args.weights:
        global CFG
        CFG = load_config(overrides={"dedup.weights": list(args.weights)})["dedup"]
    from cleancorpus.dedup.minhash import params

    p = params(CFG)
    print(
        f"dedup: threshold {CFG['threshold']}, {p.num_perm} permutations, {p.bands} bands x {p.rows} rows"
    )
    if not args.skip_datasketch:
        bench_signatures()
        bench_memory()
    bench_synthetic(args.docs, args.jobs)


if __name__ == "__main__":
    main()
