"""The ``convert`` stage: OpenCC script conversion (Traditional to Simplified by default).

OpenCC's official binding (the ``opencc`` package, C++ core) does the converting. It
replaces opencc-python-reimplemented, which installs the same module name, fails about half
of OpenCC's own ``t2s`` test cases, runs ~50x slower and changes correct Simplified text
(``慰藉着`` -> ``慰借着``).

OpenCC output differs from its input only where a dictionary entry matched whose value
differs from its key. A document holding no such key (no changing single character, no
changing phrase without one) is returned as it is without calling the converter. The table
(``data/opencc_changing_chars.txt``) is derived from the binding's own dictionaries; when the
installed binding is another version, or the table does not know the configuration, the check
is off and every document is converted.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import opencc

from cleancorpus.config import Frozen
from cleancorpus.stages import _cjk


class _ChangeCheck:
    """Whether a text holds a key of an entry that changes something, for one configuration."""

    def __init__(self, chars: str, phrases: list[str]) -> None:
        self.chars = _cjk.CharSet(chars) if chars else None
        # One alternation per first character: the regex engine scans for the first
        # characters in C and tries only that character's branch.
        by_first: dict[str, list[str]] = {}
        for phrase in phrases:
            by_first.setdefault(phrase[0], []).append(phrase[1:])
        branches = [
            re.escape(first)
            + "(?:"
            + "|".join(map(re.escape, sorted(rests, key=len, reverse=True)))
            + ")"
            for first, rests in sorted(by_first.items())
        ]
        self.phrases = re.compile("|".join(branches)) if branches else None

    def may_change(self, text: str) -> bool:
        if self.chars is not None and self.chars.search(text):
            return True
        return self.phrases is not None and self.phrases.search(text) is not None


@dataclass(frozen=True)
class _Converter:
    name: str
    convert: Any
    check: _ChangeCheck | None


def _change_check(config: str, table: str) -> _ChangeCheck | None:
    lines = _cjk.read_data_raw(table)
    marker = "# opencc-version:"
    version = next((ln[len(marker) :].strip() for ln in lines if ln.startswith(marker)), "")
    if version != importlib.metadata.version("opencc"):
        return None
    for line in lines:
        if line.startswith(config + "\t"):
            _, chars, phrases = line.split("\t")
            return _ChangeCheck(chars, phrases.split())
    return None


@lru_cache(maxsize=8)
def _converter(cfg: Frozen) -> _Converter | None:
    name = str(cfg["config"]).removesuffix(".json")
    if name in ("", "none"):
        return None
    conv = opencc.OpenCC(name)
    check = _change_check(name, cfg["changing_chars_table"]) if cfg["skip_unchanged"] else None
    return _Converter(name=name, convert=conv.convert, check=check)


def needs_conversion(text: str, cfg: Frozen) -> bool:
    """Whether the configured conversion could change ``text`` (False when it is "none")."""
    conv = _converter(cfg)
    if conv is None:
        return False
    return conv.check is None or conv.check.may_change(text)


def convert(text: str, cfg: Frozen) -> tuple[str, Counter[str]]:
    """Convert ``text`` to the configured script with OpenCC (``cfg["config"]``, e.g. ``t2s``).

    Counts the characters changed as ``convert.<config>``.

    >>> convert("會議明確了今年的幾方面工作", load_config()["convert"])[0]
    '会议明确了今年的几方面工作'
    """
    changes: Counter[str] = Counter()
    conv = _converter(cfg)
    if conv is None or not text:
        return text, changes
    if conv.check is not None and not conv.check.may_change(text):
        return text, changes
    out = conv.convert(text)
    if out != text:
        if len(out) == len(text):
            n = sum(a != b for a, b in zip(text, out, strict=True))
        else:
            n = max(len(out), len(text)) - sum(a == b for a, b in zip(text, out, strict=False))
        changes[f"convert.{conv.name}"] += n
    return out, changes
