"""The runner's spool between passes: documents in memory up to a budget, the rest in a file."""

from __future__ import annotations

import pytest

from cleancorpus.document import Document
from cleancorpus.runner import Spool, _footprint, unpack
from conftest import SAMPLE


def _chunks(n: int, size: int = 3) -> list[list[Document]]:
    return [
        [Document(id=f"{c}-{i}", text=f"第{c}块第{i}篇" * 20) for i in range(size)]
        for c in range(n)
    ]


@pytest.mark.parametrize("budget_chunks", [0, 2, 5])
def test_spool_keeps_chunks_in_memory_up_to_its_budget_and_order_whatever_the_budget(
    budget_chunks,
):
    chunks = _chunks(5)
    spool = Spool(memory=sum(_footprint(c) for c in chunks[:budget_chunks]))
    for chunk in chunks:
        spool.add(chunk)
    held = list(spool)
    assert [isinstance(c, list) for c in held] == [i < budget_chunks for i in range(5)]
    # Parked beyond the budget: (file, offset, size) in the spool's own file.
    assert all(isinstance(c, tuple) and len(c) == 3 for c in held[budget_chunks:])
    assert [[d.id for d in unpack(c)] for c in held] == [[d.id for d in c] for c in chunks]
    assert [[d.text for d in unpack(c)] for c in held] == [[d.text for d in c] for c in chunks]
    spool.close()


def test_spool_lets_go_of_chunks_as_they_are_drained():
    spool = Spool(memory=1 << 30)
    for chunk in _chunks(3):
        spool.add(chunk)
    it = iter(spool)
    next(it)
    assert len(spool._chunks) == 2  # the first is the consumer's now
    assert len(list(it)) == 2
    assert not spool._chunks


def test_spool_parks_pickled_chunks_and_keeps_parked_references():
    import pickle

    first = _chunks(1)[0]
    spool = Spool(memory=1 << 30)
    spool.add(pickle.dumps(first))
    spool.add(("/elsewhere/park-1-99", 10, 20))
    held = list(spool)
    assert [d.id for d in unpack(held[0])] == [d.id for d in first]
    assert held[1] == ("/elsewhere/park-1-99", 10, 20)
    spool.close()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_clean_output_is_the_same_with_documents_kept_in_memory_or_spooled(run, tmp_path, jobs):
    """run.spool_memory_mb decides only where documents wait between the passes."""
    outputs = []
    for mb in ("0", "64"):
        cfg = tmp_path / f"c{mb}.toml"
        cfg.write_text(f"[run]\nspool_memory_mb = {mb}\n")
        out, manifest = tmp_path / f"o{mb}.jsonl", tmp_path / f"m{mb}.jsonl"
        result = run(
            "clean", SAMPLE, "-j", jobs, "--config", cfg, "-o", out, "--manifest", manifest
        )
        assert result.exit_code == 0, result.stderr
        outputs.append((out.read_bytes(), manifest.read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0]
