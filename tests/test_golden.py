"""Golden files: `clean` on each seed equals the expected body written by hand (tests/golden/)."""

from __future__ import annotations

import pytest

from conftest import ROOT, SEEDS

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_clean_output_equals_golden(run, tmp_path, seed):
    expected = (GOLDEN / seed.name).read_text(encoding="utf-8")
    out = tmp_path / "out"
    result = run("clean", seed, "-o", out)
    assert result.exit_code == 0, result.stderr
    got = (out / seed.name).read_text(encoding="utf-8")
    assert got == expected


def test_golden_seeds_in_other_encodings_give_the_same_output(run, tmp_path):
    """Encoding invariance on the real documents: the encoding variants clean to the golden text."""
    variants = sorted((ROOT / "sample_data" / "encodings").iterdir())
    result = run("clean", *variants, "-o", tmp_path / "out", "--no-dedup")
    assert result.exit_code == 0, result.stderr
    for variant in variants:
        golden = GOLDEN / (variant.name.split(".")[0] + ".txt")
        assert (tmp_path / "out" / variant.name).read_text(encoding="utf-8") == golden.read_text(
            encoding="utf-8"
        ), variant.name
