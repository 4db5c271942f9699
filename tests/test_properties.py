"""The properties SPEC.md promises, end to end through the per-document stages.

Encoding, repair and script invariance, idempotence, safety and determinism, each with its own
hypothesis test over text built from real sentences of the seed documents.
"""

from __future__ import annotations

import re

import opencc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleancorpus import pipeline
from cleancorpus.config import load_config
from cleancorpus.document import Document
from conftest import ROOT, SAMPLE, read_manifest

CFG = load_config()
STAGES = ["decode", "fix", "convert", "strip", "filter"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _body_sentences() -> list[str]:
    """Sentences of the Simplified seeds' bodies: correct Chinese with full-width punctuation."""
    out: list[str] = []
    for name in ("001", "003", "004"):
        [path] = SAMPLE.glob(f"{name}_*.txt")
        for line in path.read_text(encoding="utf-8").splitlines():
            line = re.sub(r"<[^>]+>", "", line).strip()
            if len(line) < 40 or re.search(r"[|<>]|来源|抄送|主送|版权|http", line):
                continue
            out += [s for s in re.findall(r"[^。！？；]+[。！？；]", line) if len(s) >= 8]
    return sorted(set(out))


SENTENCES = _body_sentences()
paragraph = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4).map("".join)
document = st.lists(paragraph, min_size=2, max_size=6).map("\n".join).map(lambda t: t + "\n")


def clean(raw: bytes | str, stages: list[str] = STAGES) -> Document:
    doc = Document(id="x", raw=raw) if isinstance(raw, bytes) else Document(id="x", text=raw)
    return pipeline.run_one(doc, stages, CFG)


def cleaned_text(raw: bytes | str) -> str:
    doc = clean(raw)
    assert doc.status == "kept", doc.error
    return doc.text or ""


def test_sentences_available():
    assert len(SENTENCES) > 50


@SETTINGS
@given(
    document,
    st.sampled_from(
        ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]
    ),
)
def test_encoding_invariance(text, encoding):
    assert cleaned_text(text.encode(encoding)) == cleaned_text(text.encode("utf-8"))


@SETTINGS
@given(document)
def test_encoding_invariance_big5(text):
    traditional = opencc.OpenCC("s2tw").convert(text)
    try:
        raw = traditional.encode("big5hkscs")
    except UnicodeEncodeError:
        return  # a character Big5-HKSCS cannot encode: no such file can exist
    assert cleaned_text(raw) == cleaned_text(traditional.encode("utf-8"))


MOJIBAKE = {
    "utf8_as_gbk": lambda t: t.encode("utf-8").decode("gb18030", errors="replace"),
    "gbk_as_latin1": lambda t: t.encode("gb18030").decode("latin-1"),
    "utf8_as_cp1252": lambda t: t.encode("utf-8").decode("cp1252", errors="replace"),
}


@SETTINGS
@given(paragraph, st.sampled_from(sorted(MOJIBAKE)))
def test_repair_invariance(text, kind):
    damaged = MOJIBAKE[kind](text)
    if "\ufffd" in damaged:
        return  # bytes the wrong codec had no character for: the damage itself lost them
    assert cleaned_text(damaged + "\n") == cleaned_text(text + "\n")


@SETTINGS
@given(document)
def test_script_invariance(text):
    import difflib

    traditional = opencc.OpenCC("s2t").convert(text)
    a, b = cleaned_text(traditional), cleaned_text(text)
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    assert ratio >= 0.99


@SETTINGS
@given(document)
def test_idempotence(text):
    once = cleaned_text(text)
    assert cleaned_text(once) == once


def test_idempotence_on_seeds():
    for path in sorted(SAMPLE.glob("*.txt")):
        once = cleaned_text(path.read_bytes())
        assert cleaned_text(once) == once, path.name


@SETTINGS
@given(document)
def test_safety_correct_text_passes_unchanged(text):
    doc = clean(text)
    assert doc.text == text
    assert not doc.changes


@SETTINGS
@given(document)
def test_determinism(text):
    assert cleaned_text(text) == cleaned_text(text)


def test_corpus_idempotence_through_the_cli(run, tmp_path):
    """Cleaning cleaned output changes nothing, with the corpus-level passes (template lines,
    dedup) in play: 300 generated pages of three sites, some Traditional, GBK or duplicated."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    corpus.write_corpus(tmp_path / "dump", 300)
    first, second = tmp_path / "first", tmp_path / "second"
    assert run("clean", tmp_path / "dump", "-o", first, "-q").exit_code == 0
    manifest = tmp_path / "m.jsonl"
    assert run("clean", first, "-o", second, "--manifest", manifest, "-q").exit_code == 0
    rows = read_manifest(manifest)
    assert rows and all(r["status"] == "kept" and not r["changes"] for r in rows)
    for path in first.rglob("*.txt"):
        assert (second / path.relative_to(first)).read_bytes() == path.read_bytes()
