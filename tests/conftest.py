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
