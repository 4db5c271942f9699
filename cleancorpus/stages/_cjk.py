"""Character tables shared by the ``fix`` stage: common hanzi, pinyin syllables, plausibility.

The plausibility score says how much a string looks like Chinese text rather than mojibake.
Mojibake of Chinese is made of Latin-1 letters and symbols (``»áÒé``), of rare or
unrelated characters (``浼氳鏄庣``), kana, box drawing, private-use characters; real text is
mostly common characters and CJK punctuation. The common characters come from the national
standards (GB 2312-80 level 1, Big5 常用字; see ``data/common_hanzi.txt``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources


def read_data_raw(name: str) -> list[str]:
    """All lines of a package data file (``cleancorpus/data/NAME``)."""
    text = resources.files("cleancorpus").joinpath("data", name).read_text(encoding="utf-8")
    return text.splitlines()


def read_data(name: str) -> list[str]:
    """Lines of a package data file, comments (``#``) and blank lines left out."""
    return [ln for ln in read_data_raw(name) if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=4)
def common_hanzi(name: str) -> frozenset[str]:
    return frozenset("".join(read_data(name)))


@lru_cache(maxsize=4)
def pinyin_syllables(name: str) -> frozenset[str]:
    return frozenset(word for line in read_data(name) for word in line.split())


_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_HANZI_RE = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0003134f]")
_PUNCT_RE = re.compile(
    "[\u3000-\u303f\uff01-\uff5e\u2010-\u2027\u2030-\u203b\u2160-\u217f\u2460-\u24ff"
    "\u3200-\u32ff\ufe30-\ufe4f]"
)
SUSPICIOUS = re.compile(
    "[\x80-\u02ff\u0370-\u052f\u2500-\u25ff\u3040-\u30ff\u3130-\u318f\uac00-\ud7af"
    "\ue000-\uf8ff\U000f0000-\U0010ffff]"
)
_LATIN_LETTER = "[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"
_LATIN_IN_WORD = re.compile(f"(?<=[A-Za-z]){_LATIN_LETTER}|{_LATIN_LETTER}(?=[A-Za-z])")


class Scorer:
    """Mean plausibility of the non-ASCII characters of a string, from configured weights.

    Classes, by weight: common hanzi (``common``), other hanzi, CJK punctuation, what mojibake
    is made of (Latin-1 and Latin extended, Greek, Cyrillic, box drawing, kana, hangul,
    private use), anything else. Counted with regexes, so scoring costs a few C scans.
    """

    def __init__(self, common: frozenset[str], weights: Mapping[str, float]) -> None:
        self.common = re.compile("[" + re.escape("".join(sorted(common))) + "]")
        self.w_common = float(weights["common_hanzi"])
        self.w_hanzi = float(weights["other_hanzi"])
        self.w_punct = float(weights["cjk_punct"])
        self.w_suspicious = float(weights["suspicious"])
        self.w_other = float(weights["other"])

    def score(self, text: str, latin_words: bool = True) -> tuple[float, int]:
        """(mean weight, count) over the characters outside ASCII and U+FFFD; (0.0, 0) for none.

        U+FFFD says nothing about the script (a character is lost, whatever it was). With
        ``latin_words``, Latin letters beside an ASCII letter are left out: a repaired run may
        keep pinyin or names (zhèn, café); a damaged run is scored without it, since GBK or
        Big5 shown as Latin-1 mixes accented letters with ASCII trail bytes (時間 -> ``•rég``).
        """
        n = len(_NON_ASCII.findall(text))
        if not n:
            return 0.0, 0
        common = len(self.common.findall(text))
        hanzi = len(_HANZI_RE.findall(text))
        punct = len(_PUNCT_RE.findall(text))
        suspicious = len(SUSPICIOUS.findall(text))
        other = n - hanzi - punct - suspicious
        if latin_words:
            in_words = len(_LATIN_IN_WORD.findall(text))
            suspicious -= in_words
            n -= in_words
            if not n:
                return 0.0, 0
        total = (
            self.w_common * common
            + self.w_hanzi * (hanzi - common)
            + self.w_punct * punct
            + self.w_suspicious * suspicious
            + self.w_other * other
        )
        return total / n, n
