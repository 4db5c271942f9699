"""Character tables shared by the ``fix`` stage: common hanzi, pinyin syllables, plausibility.

The plausibility score says how much a string looks like Chinese text rather than mojibake.
Mojibake of Chinese is made of Latin-1 letters and symbols (``»áÒé``), of rare or
unrelated characters (``浼氳鏄庣``), kana, box drawing, private-use characters; real text is
mostly common characters and CJK punctuation. The common characters come from the national
standards (GB 2312-80 level 1, Big5 常用字; see ``data/common_hanzi.txt``).
"""

from __future__ import annotations

import re
import unicodedata
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


class CharSet:
    """Fast "does this text hold any of these characters": one regex class per plane.

    Python's regex engine turns a large class of BMP characters into a lookup table but
    checks a class holding astral characters one alternative at a time; the astral part is
    searched only in texts that have an astral character at all.
    """

    _ASTRAL = re.compile("[\U00010000-\U0010ffff]")

    def __init__(self, chars: str | set[str]) -> None:
        bmp = "".join(sorted(ch for ch in set(chars) if ord(ch) <= 0xFFFF))
        astral = "".join(sorted(ch for ch in set(chars) if ord(ch) > 0xFFFF))
        self.bmp = re.compile("[" + re.escape(bmp) + "]") if bmp else None
        self.astral = re.compile("[" + re.escape(astral) + "]") if astral else None

    def search(self, text: str) -> bool:
        if self.bmp is not None and self.bmp.search(text):
            return True
        return bool(
            self.astral is not None and self._ASTRAL.search(text) and self.astral.search(text)
        )


def is_hanzi(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
    )


# Punctuation and symbols that real Chinese text uses: CJK symbols, full-width forms,
# general punctuation (dashes, curly quotes, ellipsis), number forms and enclosed numerals.
def _is_cjk_punct(o: int) -> bool:
    return (
        0x3000 <= o <= 0x303F
        or 0xFF01 <= o <= 0xFF5E
        or 0x2010 <= o <= 0x2027
        or 0x2030 <= o <= 0x203B
        or 0x2160 <= o <= 0x217F
        or 0x2460 <= o <= 0x24FF
        or 0x3200 <= o <= 0x32FF
        or 0xFE30 <= o <= 0xFE4F
    )


# What mojibake is made of besides hanzi: Latin-1 supplement and C1 controls, Latin
# extended, IPA, spacing modifiers, Greek, Cyrillic, box drawing and block elements,
# geometric shapes, kana, hangul, private use, CJK compatibility forms.
def _is_suspicious(o: int) -> bool:
    return (
        0x80 <= o <= 0x2FF
        or 0x370 <= o <= 0x52F
        or 0x2500 <= o <= 0x25FF
        or 0x3040 <= o <= 0x30FF
        or 0x3130 <= o <= 0x318F
        or 0xAC00 <= o <= 0xD7AF
        or 0xE000 <= o <= 0xF8FF
        or 0xF0000 <= o
    )


class Scorer:
    """Mean plausibility of the non-ASCII characters of a string, from configured weights."""

    def __init__(self, common: frozenset[str], weights: Mapping[str, float]) -> None:
        self.common = common
        self.w_common = float(weights["common_hanzi"])
        self.w_hanzi = float(weights["other_hanzi"])
        self.w_punct = float(weights["cjk_punct"])
        self.w_suspicious = float(weights["suspicious"])
        self.w_other = float(weights["other"])
        self._cache: dict[str, float] = {}

    def weight(self, ch: str) -> float:
        w = self._cache.get(ch)
        if w is None:
            o = ord(ch)
            if ch in self.common:
                w = self.w_common
            elif is_hanzi(ch):
                w = self.w_hanzi
            elif _is_cjk_punct(o):
                w = self.w_punct
            elif _is_suspicious(o) or unicodedata.category(ch) in ("Cc", "Co", "Cn"):
                w = self.w_suspicious
            else:
                w = self.w_other
            self._cache[ch] = w
        return w

    def score(self, text: str, latin_words: bool = True) -> tuple[float, int]:
        """(mean weight, count) over the characters outside ASCII and U+FFFD; (0.0, 0) for none.

        With ``latin_words``, Latin letters inside Latin words are left out (a repaired run
        may keep pinyin or names); a damaged run is scored without it, since GBK/Big5 shown
        as Latin-1 mixes accented letters with ASCII trail bytes (時間 -> ``•rég``).
        """
        total = 0.0
        n = 0
        last = len(text) - 1
        for i, ch in enumerate(text):
            # U+FFFD says nothing about the script: a character is lost, whatever it was.
            if ch > "\x7f" and ch != "\ufffd":
                w = self.weight(ch)
                # A Latin letter beside an ASCII letter is Latin text (café, zhèn), not mojibake:
                # it is left out of the mean.
                if (
                    latin_words
                    and w < 0
                    and ch.isalpha()
                    and ch < "\u0250"
                    and (
                        (i > 0 and text[i - 1].isascii() and text[i - 1].isalpha())
                        or (i < last and text[i + 1].isascii() and text[i + 1].isalpha())
                    )
                ):
                    continue
                total += w
                n += 1
        return (total / n if n else 0.0), n
