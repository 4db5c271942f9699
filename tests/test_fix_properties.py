"""Property tests for the fix stage: safety on correct Chinese, and idempotence."""

from __future__ import annotations

import re
from pathlib import Path

import opencc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleancorpus.config import load_config
from cleancorpus.stages.fix import fix

CFG = load_config()["fix"]
SEEDS = sorted((Path(__file__).parent.parent / "sample_data").glob("*.txt"))
_ALL = "".join(p.read_text(encoding="utf-8") for p in SEEDS)
# Pinyin artifacts are damage, not correct text: left out of the "correct" material.
_CLEAN = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", _ALL)
_TRAD = opencc.OpenCC("s2t").convert(_CLEAN)
S2TW = opencc.OpenCC("s2tw")

HANZI = sorted({ch for ch in _CLEAN + _TRAD if "\u4e00" <= ch <= "\u9fff"})
PUNCT = list("，。、：；！？“”‘’（）《》【】〔〕—…·")
SENTENCES = sorted(
    {
        s.strip()
        for text in (_CLEAN, _TRAD)
        for s in re.findall(r"[^。！？\n]*[。！？]", text)
        if 4 <= len(s.strip()) <= 120 and not re.search(r"[\x00-\x7f]", s)
    }
)

words = st.text(alphabet=HANZI, min_size=1, max_size=12)
correct_line = st.lists(
    st.one_of(
        st.sampled_from(SENTENCES),
        st.tuples(words, st.sampled_from(PUNCT)).map("".join),
        st.tuples(st.sampled_from("“（《【"), words, st.sampled_from("”）》】")).map("".join),
        st.integers(0, 99999).map(str),
    ),
    min_size=1,
    max_size=8,
).map("".join)
correct_text = st.lists(correct_line, min_size=1, max_size=5).map("\n".join)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(correct_text)
def test_correct_chinese_passes_unchanged(text):
    out, changes = fix(text, CFG)
    assert out == text
    assert not changes


@SETTINGS
@given(correct_text)
def test_correct_traditional_chinese_passes_unchanged(text):
    trad = S2TW.convert(text)
    assert fix(trad, CFG) == (trad, {})


# Everything fix touches, mixed with correct text: mojibake fragments, entities, spaces,
# controls, pinyin readings, full-width letters, blank lines.
NOISE = [
    "»áÒé",
    "Ã÷È·",
    "ä¼šè®®",
    "浼氳\ue185鏄庣‘",
    "蝬脩窗撱箄身",
    "锟斤拷",
    "\ufffd",
    "&nbsp;",
    "&amp;",
    "&#12288;",
    "&amp;nbsp;",
    "\u3000",
    "\xa0",
    "\u200b",
    "\r\n",
    "\n",
    "\n\n\n",
    "\t",
    " ",
    "\x07",
    "\x85",
    "(huì)",
    "（wǎng）",
    "(hui)",
    "(WLAN)",
    "ＡＢＣ１２３",
    "é",
    "·",
    "Café",
    "&",
    "(",
    ")",
]
noisy_text = st.lists(
    st.one_of(st.sampled_from(NOISE), words, st.sampled_from(PUNCT), st.sampled_from(SENTENCES)),
    max_size=30,
).map("".join)


@SETTINGS
@given(noisy_text)
def test_idempotent(text):
    once = fix(text, CFG)[0]
    assert fix(once, CFG)[0] == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_idempotent_on_any_text(text):
    once = fix(text, CFG)[0]
    assert fix(once, CFG)[0] == once
