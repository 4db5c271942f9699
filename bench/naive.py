"""The naive reference chain a user would write by hand, for `make bench` ratios.

chardet.detect on every file, ftfy.fix_text with defaults, OpenCC('t2s').convert on every
document, a handful of line regexes, datasketch MinHash with per-shingle update() over
5-character shingles, MinHashLSH(threshold=0.8). One process.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import chardet
import ftfy
import opencc
from datasketch import MinHash, MinHashLSH

RULES = [
    re.compile(p)
    for p in (
        r"^(当前位置|您的位置)",
        r"版权所有|Copyright",
        r"ICP备|公网安备",
        r"^(来源|责任编辑)[:：]",
        r"打印本页|关闭窗口",
        r"\|.*\|",
    )
]


def naive_clean(paths: list[Path]) -> tuple[int, float]:
    """Clean the files; returns (kept documents, seconds)."""
    start = time.perf_counter()
    converter = opencc.OpenCC("t2s")
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    kept = 0
    for i, path in enumerate(paths):
        raw = path.read_bytes()
        guess = chardet.detect(raw)["encoding"] or "utf-8"
        text = raw.decode(guess, errors="replace")
        text = ftfy.fix_text(text)
        text = converter.convert(text)
        text = "\n".join(
            line for line in text.splitlines() if not any(r.search(line) for r in RULES)
        )
        m = MinHash(num_perm=128)
        for j in range(max(1, len(text) - 4)):
            m.update(text[j : j + 5].encode("utf-8"))
        if not lsh.query(m):
            lsh.insert(str(i), m)
            kept += 1
    return kept, time.perf_counter() - start


if __name__ == "__main__":
    import sys

    listing = Path(sys.argv[1]).read_text(encoding="utf-8").split("\n")
    kept, seconds = naive_clean([Path(line) for line in listing if line])
    print(kept, seconds)
