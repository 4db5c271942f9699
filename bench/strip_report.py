"""Boilerplate-removal quality and speed of the strip stage over the hand-written fixtures.

Each fixture is ``tests/fixtures/strip/<name>.in.txt`` (a page as it looks after fix/convert)
with ``<name>.out.txt`` (the body, written by hand). A piece of input text is a line, or the text
between HTML tags of a line; a piece is *body* if the expected output has it, else boilerplate.

    python bench/strip_report.py          # table per fixture, totals, and strip MB/s
    python bench/strip_report.py a b      # the same over fixtures a and b only

Goals: ≥ 95% of boilerplate pieces removed, ≥ 99.5% of body characters kept.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleancorpus.config import load_config  # noqa: E402
from cleancorpus.stages.strip import strip  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "strip"
# Block tags separate pieces; other tags (<strong>, <span>, <a>) are dropped from inside them.
_BLOCK = re.compile(
    r"</?(?:p|div|br|h[1-6]|li|ul|ol|tr|td|th|table|section|article)\b[^<>]*>", re.I
)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:]*(?:\s[^<>]*)?/?>|<!--.*?-->")


def _pieces(text: str) -> list[str]:
    text = _TAG.sub("", _BLOCK.sub("\n", text))
    return [p.strip() for p in text.split("\n") if p.strip()]


def fixture_names() -> list[str]:
    return sorted(p.name[: -len(".in.txt")] for p in FIXTURES.glob("*.in.txt"))


def score(page: str, expected: str, got: str) -> dict[str, int]:
    """Boilerplate pieces (total, removed) and body characters (total, kept) of one page."""
    body = Counter(_pieces(expected))
    out = Counter(_pieces(got))
    bp_total = bp_removed = 0
    seen_body: Counter[str] = Counter()
    for piece in _pieces(page):
        if seen_body[piece] < body[piece]:
            seen_body[piece] += 1
            continue
        bp_total += 1
        if out[piece] <= body[piece]:
            bp_removed += 1
    body_chars = sum(len(p) * n for p, n in body.items())
    kept_chars = sum(len(p) * min(n, out[p]) for p, n in body.items())
    return {
        "boilerplate": bp_total,
        "removed": bp_removed,
        "body_chars": body_chars,
        "kept_chars": kept_chars,
    }


def fixture_scores(cfg: Any = None, names: list[str] | None = None) -> dict[str, Any]:
    """Per-fixture scores and totals: ``removed_ratio`` and ``kept_ratio`` over the fixtures
    (all of them, or ``names``)."""
    cfg = cfg if cfg is not None else load_config()["strip"]
    per: dict[str, dict[str, int]] = {}
    for name in names or fixture_names():
        page = (FIXTURES / f"{name}.in.txt").read_text(encoding="utf-8")
        expected = (FIXTURES / f"{name}.out.txt").read_text(encoding="utf-8")
        per[name] = score(page, expected, strip(page, cfg)[0])
    total = Counter[str]()
    for s in per.values():
        total.update(s)
    return {
        "fixtures": per,
        "removed_ratio": total["removed"] / max(1, total["boilerplate"]),
        "kept_ratio": total["kept_chars"] / max(1, total["body_chars"]),
        "totals": dict(total),
    }


def throughput(cfg: Any, seconds: float = 1.0) -> float:
    """strip MB/s (UTF-8 bytes in) over the fixtures and seeds, repeated for ``seconds``."""
    texts = [(FIXTURES / f"{n}.in.txt").read_text(encoding="utf-8") for n in fixture_names()]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "sample_data").glob("*.txt"))]
    size = sum(len(t.encode("utf-8")) for t in texts)
    done = 0
    start = time.perf_counter()
    while True:
        for t in texts:
            strip(t, cfg)
        done += size
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed / 1e6


def main() -> None:
    cfg = load_config()["strip"]
    # Optional fixture names: score a subset, e.g. pages written blind before a rule change.
    report = fixture_scores(cfg, sys.argv[1:] or None)
    print(f"{'fixture':<22}{'boilerplate':>12}{'removed':>9}{'body chars':>12}{'kept':>8}")
    for name, s in report["fixtures"].items():
        print(
            f"{name:<22}{s['boilerplate']:>12}{s['removed']:>9}{s['body_chars']:>12}{s['kept_chars']:>8}"
        )
    t = report["totals"]
    print(
        f"boilerplate lines removed: {t['removed']}/{t['boilerplate']} = "
        f"{report['removed_ratio']:.1%} (goal >= 95%)"
    )
    print(
        f"body characters kept: {t['kept_chars']}/{t['body_chars']} = "
        f"{report['kept_ratio']:.2%} (goal >= 99.5%)"
    )
    print(f"strip throughput: {throughput(cfg):.2f} MB/s")


if __name__ == "__main__":
    main()
