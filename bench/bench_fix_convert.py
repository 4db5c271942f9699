"""Throughput of the fix and convert stages (MB/s of UTF-8 input), printed, never asserted.

Documents are the five seeds in sample_data/ (pinyin artifacts removed for the "clean" sets),
repeated to a few MB, processed one document at a time as the runner does:

- fix on clean Simplified and clean Traditional text (the gates keep ftfy and the mojibake
  repairs off), against plain ftfy.fix_text for scale;
- fix on damaged text: GBK shown as Latin-1, UTF-8 shown as GB18030, UTF-8 shown as cp1252
  (ftfy), and the seeds' real pinyin artifacts;
- convert (t2s) on Traditional text, and on Simplified text that the skip check passes
  through, with the check alone and OpenCC alone on the same Simplified text for comparison.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # registers sloppy-windows-1252
import opencc

from cleancorpus.config import load_config
from cleancorpus.stages.convert import convert, needs_conversion
from cleancorpus.stages.fix import fix

ROOT = Path(__file__).resolve().parent.parent
TARGET_BYTES = 2_000_000


def seeds() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((ROOT / "sample_data").glob("*.txt"))]


def repeat(docs: list[str], target: int = TARGET_BYTES) -> list[str]:
    out: list[str] = []
    size = 0
    i = 0
    while size < target:
        doc = docs[i % len(docs)]
        out.append(doc)
        size += len(doc.encode("utf-8"))
        i += 1
    return out


def rate(
    label: str, fn: Callable[[str], object], docs: list[str], input_docs=None, repeats: int = 3
) -> float:
    """MB/s of ``fn`` over ``docs``: CPU time of this process, best of ``repeats`` runs."""
    nbytes = sum(len(d.encode("utf-8")) for d in (input_docs or docs))
    seconds = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for doc in docs:
            fn(doc)
        seconds = min(seconds, time.process_time() - start)
    mbs = nbytes / seconds / 1e6
    print(f"  {label:<52} {mbs:8.1f} MB/s  ({nbytes / 1e6:.1f} MB, {len(docs)} docs)")
    return mbs


def main() -> None:
    cfg = load_config()
    fcfg, ccfg = cfg["fix"], cfg["convert"]
    raw = seeds()
    clean = [re.sub(r"\([a-zà-ǜü]{1,6}\)", "", d) for d in raw]
    simplified = [opencc.OpenCC("t2s").convert(d) for d in clean]
    traditional = [opencc.OpenCC("s2t").convert(d) for d in simplified]
    fix(simplified[0], fcfg)
    convert(traditional[0], ccfg)

    simp_docs = repeat(simplified)
    trad_docs = repeat(traditional)
    print("fix")
    clean_rate = rate("fix, clean Simplified", lambda t: fix(t, fcfg), simp_docs)
    rate("fix, clean Traditional", lambda t: fix(t, fcfg), trad_docs)
    ftfy_rate = rate("ftfy.fix_text alone, clean Simplified (reference)", ftfy.fix_text, simp_docs)
    print(f"  fix clean / ftfy: {clean_rate / ftfy_rate:.1f}x")

    damaged_sets = {
        "GBK shown as Latin-1": [d.encode("gb18030").decode("latin-1") for d in simplified],
        "UTF-8 shown as GB18030 (lossy, errors=replace)": [
            d.encode("utf-8").decode("gb18030", errors="replace") for d in simplified
        ],
        "UTF-8 shown as GBK (lossy, errors=replace)": [
            d.encode("utf-8").decode("gbk", errors="replace") for d in simplified
        ],
        "GBK shown as cp1252 (lossy, errors=replace)": [
            d.encode("gb18030").decode("cp1252", errors="replace") for d in simplified
        ],
        "UTF-8 shown as cp1252 (ftfy)": [
            d.encode("utf-8").decode("sloppy-windows-1252") for d in simplified
        ],
        "seeds with pinyin artifacts (000, 002)": [raw[0], raw[2]],
    }
    for label, docs in damaged_sets.items():
        target = TARGET_BYTES // 4
        n = max(1, target // max(1, sum(len(d.encode("utf-8")) for d in docs)))
        damaged = docs * n
        originals = (simplified if len(docs) == len(simplified) else docs) * n
        rate(f"fix, damaged: {label}", lambda t: fix(t, fcfg), damaged, originals)

    print("convert (t2s)")
    rate("convert, Traditional text", lambda t: convert(t, ccfg), trad_docs)
    skip_docs = [d for d in simp_docs if not needs_conversion(d, ccfg)]
    print(f"  ({len(skip_docs)} of {len(simp_docs)} Simplified documents pass the skip check)")
    skip_rate = rate("convert, Simplified text (skip path)", lambda t: convert(t, ccfg), skip_docs)
    check_rate = rate("  the skip check alone", lambda t: needs_conversion(t, ccfg), skip_docs)
    t2s = opencc.OpenCC("t2s")
    opencc_rate = rate("  OpenCC t2s alone on the same text", t2s.convert, skip_docs)
    print(f"  skip check / converting: {check_rate / opencc_rate:.1f}x faster")
    print(f"  convert with skip / without: {skip_rate / opencc_rate:.1f}x")


if __name__ == "__main__":
    main()
