"""Property tests for the fix stage: safety on correct Chinese, and idempotence."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import opencc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleancorpus.config import load_config
from cleancorpus.stages.fix import fix
from conftest import equal_but_for_losses

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


# Lossy damage: UTF-8 read by a CJK decoder (or GBK/Big5 read as cp1252) that replaces what it
# cannot read. Whatever the repair recovers must be the original's; the rest stays U+FFFD.
LOSSY = [
    ("utf-8", "gbk"),
    ("utf-8", "gb2312"),
    ("utf-8", "gb18030"),
    ("utf-8", "big5"),
    ("utf-8", "big5hkscs"),
    ("gb18030", "cp1252"),
    ("big5hkscs", "cp1252"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(correct_line, st.sampled_from(LOSSY))
def test_lossy_repair_recovers_only_the_original(text, damage):
    encoding, decoder = damage
    min_hanzi = CFG["latin_context_min_hanzi"]
    original = S2TW.convert(text) if "big5" in encoding + decoder else text
    if decoder == "cp1252" and len(re.findall("[\u4e00-\u9fff]", original)) < min_hanzi:
        # Known gap, not a lossy case: a line without other hanzi whose GBK/Big5 reading has
        # fewer than latin_context_min_hanzi hanzi is left to ftfy, and ftfy's
        # decode_inconsistent_utf8 reads a pair inside it as UTF-8 (“一献” in GBK shows
        # Ï×¡, and ×¡ is UTF-8 for ס). Turning that fixer off breaks ftfy's own cases.
        return
    try:
        damaged = original.encode(encoding).decode(decoder, errors="replace")
    except UnicodeEncodeError:
        return
    out = fix(damaged, CFG)[0]
    # Characters the repair wrote (not in the damaged text) are the original's.
    # Damage left alone, and what hygiene made of it (ｇ -> g), is not written by a repair.
    leftover = set(damaged) | set(unicodedata.normalize("NFKC", damaged))
    assert {ch for ch in out if ch not in leftover and ch != "\ufffd"} <= set(original)
    # Where no damage is left alone, the output is the original but for U+FFFD.
    if not any(ch in leftover and ch not in original for ch in out):
        assert equal_but_for_losses(out, fix(original, CFG)[0])
