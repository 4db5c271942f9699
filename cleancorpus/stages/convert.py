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
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import opencc

from cleancorpus.config import ConfigError, Frozen
from cleancorpus.stages import _cjk


class _ChangeCheck:
    """Whether a text holds a key of an entry that changes something, for one configuration.

    One table lookup per character (numpy) finds the changing characters, and the characters
    that changing phrases change (沈 of 沈思 -> 沉思); only around the latter are the phrases
    themselves compared.
    """

    CHUNK = 1 << 20  # characters per lookup, bounding the temporary arrays

    def __init__(self, chars: str, phrases: list[str], triggers: str) -> None:
        self.table = np.zeros(0x110000, dtype=np.uint8)
        self.table[[ord(ch) for ch in triggers]] = _TRIGGER
        self.table[[ord(ch) for ch in chars]] = _CHANGES
        self.by_trigger: dict[str, list[tuple[str, int]]] = {}
        for phrase in phrases:
            for k, ch in enumerate(phrase):
                if ch in triggers:
                    self.by_trigger.setdefault(ch, []).append((phrase, k))

    def may_change(self, text: str) -> bool:
        for i in range(0, len(text), self.CHUNK):
            chunk = text[i : i + self.CHUNK].encode("utf-32-le", "surrogatepass")
            codes = np.frombuffer(chunk, dtype=np.uint32)
            found = self.table[codes]
            top = int(found.max()) if len(found) else 0
            if top == _CHANGES:
                return True
            if top and self._phrase_at_triggers(text, np.unique(codes[found == _TRIGGER])):
                return True
        return False

    def _phrase_at_triggers(self, text: str, triggers: np.ndarray) -> bool:
        for code in triggers.tolist():
            ch = chr(code)
            pos = text.find(ch)
            while pos >= 0:
                for phrase, k in self.by_trigger.get(ch, ()):
                    if pos >= k and text.startswith(phrase, pos - k):
                        return True
                pos = text.find(ch, pos + 1)
        return False


# Table values; a changing character outranks a trigger, so one max() tells which are present.
_TRIGGER = 1
_CHANGES = 2
# Characters OpenCC cannot be given: a lone surrogate has no UTF-8 (decoding never makes one;
# JSON input can), and NUL ends its C string (the mmseg configurations, s2tw and the like,
# dropped what followed). They stay as they are, the text between them is converted.
_OPAQUE = re.compile("[\x00\ud800-\udfff]")


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
            _, chars, phrases, triggers = line.split("\t")
            return _ChangeCheck(chars, phrases.split(), triggers)
    return None


@lru_cache(maxsize=8)
def _converter(cfg: Frozen) -> _Converter | None:
    config = str(cfg["config"])
    if config in ("", "none"):
        return None
    if "/" in config or os.sep in config:  # a configuration file of one's own, as it is
        conv, name, check = opencc.OpenCC(config), Path(config).stem, None
    else:
        name = config.removesuffix(".json")
        conv = opencc.OpenCC(name)
        check = _change_check(name, cfg["changing_chars_table"]) if cfg["skip_unchanged"] else None
    return _Converter(name=name, convert=conv.convert, check=check)


def check_config(cfg: Frozen) -> None:
    """Raise ConfigError when OpenCC cannot load the configured conversion (a usage error,
    before anything runs, rather than an error on every document)."""
    try:
        _converter(cfg)
    except Exception as exc:  # the binding raises RuntimeError for an unknown configuration
        raise ConfigError(
            f"convert.config {cfg['config']!r}: OpenCC cannot load it: {exc}"
        ) from None


def needs_conversion(text: str, cfg: Frozen) -> bool:
    """Whether the configured conversion could change ``text`` (False when it is "none")."""
    conv = _converter(cfg)
    if conv is None:
        return False
    return conv.check is None or conv.check.may_change(text)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _changed_chars(before: str, after: str) -> int:
    """Characters that differ position by position (a longer result counts its extra length)."""
    a, b = _code_points(before), _code_points(after)
    n = min(len(a), len(b))
    return int(np.count_nonzero(a[:n] != b[:n])) + abs(len(a) - len(b))


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
    if _OPAQUE.search(text):
        parts = _OPAQUE.split(text)
        seps = _OPAQUE.findall(text)
        out = "".join(
            conv.convert(p) + (seps[i] if i < len(seps) else "") for i, p in enumerate(parts)
        )
    else:
        out = conv.convert(text)
    if out != text:
        changes[f"convert.{conv.name}"] += _changed_chars(text, out)
    return out, changes
