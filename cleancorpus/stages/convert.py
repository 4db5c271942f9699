"""The ``convert`` stage: OpenCC script conversion (Traditional to Simplified by default).

OpenCC's official binding (the ``opencc`` package, C++ core) does the converting. It
replaces opencc-python-reimplemented, which installs the same module name, fails about half
of OpenCC's own ``t2s`` test cases, runs ~50x slower and changes correct Simplified text
(``慰藉着`` -> ``慰借着``).

A document with none of the characters the configuration's dictionaries can change is
returned as it is without calling the converter: OpenCC output differs from its input only
where a dictionary entry matched whose value differs from its key, so such a document cannot
change. The table of those characters (``data/opencc_changing_chars.txt``) is derived from
the binding's own dictionaries; when the installed binding is another version, or a
configuration names a dictionary the table does not know, the check is off and every
document is converted.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import opencc

from cleancorpus.config import Frozen
from cleancorpus.stages import _cjk


@dataclass(frozen=True)
class _Converter:
    name: str
    convert: Any
    changing: re.Pattern[str] | None


def _config_dir() -> Path:
    import opencc.clib

    return Path(opencc.clib.__file__).parent / "share" / "opencc"


def _dict_files(node: Any) -> list[str]:
    """Every ``file`` named in an OpenCC configuration's (nested) dictionary entries."""
    out: list[str] = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(node["file"])
        for value in node.values():
            out += _dict_files(value)
    elif isinstance(node, list):
        for value in node:
            out += _dict_files(value)
    return out


def _changing_pattern(config: str, table: str) -> re.Pattern[str] | None:
    lines = _cjk.read_data_raw(table)
    version = next(
        (ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("# opencc-version:")), ""
    )
    if version != importlib.metadata.version("opencc"):
        return None
    chars_by_dict = dict(ln.split("\t", 1) for ln in lines if ln and not ln.startswith("#"))
    try:
        spec = json.loads((_config_dir() / f"{config}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    chars: set[str] = set()
    for name in _dict_files(spec):
        if name not in chars_by_dict:
            return None
        chars.update(chars_by_dict[name])
    if not chars:
        return re.compile("(?!)")
    return re.compile("[" + re.escape("".join(sorted(chars))) + "]")


@lru_cache(maxsize=8)
def _converter(cfg: Frozen) -> _Converter | None:
    name = str(cfg["config"]).removesuffix(".json")
    if name in ("", "none"):
        return None
    conv = opencc.OpenCC(name)
    pattern = (
        _changing_pattern(name, cfg["changing_chars_table"]) if cfg["skip_unchanged"] else None
    )
    return _Converter(name=name, convert=conv.convert, changing=pattern)


def needs_conversion(text: str, cfg: Frozen) -> bool:
    """Whether ``text`` has a character the configured conversion could change."""
    conv = _converter(cfg)
    if conv is None:
        return False
    return conv.changing is None or conv.changing.search(text) is not None


def convert(text: str, cfg: Frozen) -> tuple[str, Counter[str]]:
    """Convert ``text`` to the configured script with OpenCC (``cfg["config"]``, e.g. ``t2s``).

    Counts the characters changed as ``convert.<config>``.

    >>> convert("會議明確了今年要著重抓好的幾方面工作", load_config()["convert"])[0]
    '会议明确了今年要着重抓好的几方面工作'
    """
    changes: Counter[str] = Counter()
    conv = _converter(cfg)
    if conv is None or not text:
        return text, changes
    if conv.changing is not None and conv.changing.search(text) is None:
        return text, changes
    out = conv.convert(text)
    if out != text:
        if len(out) == len(text):
            n = sum(a != b for a, b in zip(text, out, strict=True))
        else:
            n = max(len(out), len(text)) - sum(a == b for a, b in zip(text, out, strict=False))
        changes[f"convert.{conv.name}"] += n
    return out, changes
