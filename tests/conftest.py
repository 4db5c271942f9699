from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cleancorpus.cli import cli
from cleancorpus.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
SEEDS = sorted(SAMPLE.glob("*.txt"))


@pytest.fixture(scope="session")
def cfg():
    return load_config()


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns click's Result (stdout and stderr separate)."""

    def invoke(*args: str, input: bytes | str | None = None) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def read_manifest(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def equal_but_for_losses(repaired: str, original: str) -> bool:
    """Whether ``repaired`` is ``original`` with some characters replaced by U+FFFD (1-4 each)."""
    # The positions of ``original`` each prefix of ``repaired`` can end at (a regex with a
    # lazy wildcard per U+FFFD backtracks exponentially on heavy damage).
    ends = {0}
    for ch in repaired:
        if ch == "\ufffd":
            ends = {e + k for e in ends for k in range(1, 5) if e + k <= len(original)}
        else:
            ends = {e + 1 for e in ends if e < len(original) and original[e] == ch}
        if not ends:
            return False
    return len(original) in ends
