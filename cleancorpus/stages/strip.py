"""strip: boilerplate removal by named, position-aware rules, plus corpus template lines.

The rules are data (``config/boilerplate.toml`` and any extra rule files), compiled once per
config. Each line of a document falls in one zone:

- the **body** runs from the first to the last *body paragraph*: a line at least
  ``body_min_chars`` long, with sentence punctuation (``body_sentence_pattern``), that no
  ``anywhere`` rule matches (so a long disclaimer after the article cannot pull the link list
  below it into the body), and, in a Chinese page, with a share of Chinese characters of at
  least ``body_min_cjk_share``; a later short closing sentence (``特此通知。``, at least
  ``body_short_min_chars``, ending like ``body_end_pattern``, matching no rule, above the first
  line of page furniture) extends it. A page without body paragraphs uses its short sentences
  instead (``body_fallback``);
- the **header** is everything before the body, the **footer** everything after it.

Zone heuristics then remove lines no rule matched (named ``strip.header_chrome``,
``strip.footer_chrome``, ``strip.running_head``):

- header: everything above the last nav bar or breadcrumb that has a possible title below it;
  short plain lines above a title that a dated byline follows, or between the title and a
  follow button; an account name repeated in the byline; a line without Chinese above the
  title of a Chinese page;
- footer: everything below the first line of page furniture (``footer_cut_rules``), except
  lines that read as sentences with a clause (``footer_cut_spare_pattern``);
- anywhere: a PDF's running header, a line repeated elsewhere that sits next to a page number.

Rows of a flattened table (as many ``|`` or tabs as a neighbour) are never nav bars, anchors
or cut points. A rule may require its next line to match (``next``) or a removed neighbour
(``beside``).

Template lines (short lines that recur in ``template_min_docs`` documents of a source group,
counted by the runner over :func:`line_keys`) are removed in the header and footer only, so
that a section title every notice shares ("一、总体要求") survives in the body.

A rule restricted to the header or footer can therefore never delete a line between two body
paragraphs; only ``anywhere`` rules (whose patterns are strict enough to be safe) act there.
When a document has no body at all, line rules of every zone apply but block rules and zone
heuristics do not (there is no "rest of the footer" to cut with confidence).

Rule kinds:

- ``line``: removes each matching line of its zone (optionally with its ``continuation``
  lines, e.g. the wrapped lines of a 抄送 list);
- ``block``: a matching line starts a block that runs to the end of its zone (e.g. 延伸阅读
  and the link list after it); in the header, to the start of the body;
- ``front_matter``: a ``---`` … ``---`` block of ``key: value`` lines at the top;
- ``html``: a tag pattern removed from inside lines (``replace = "\\n"`` splits the line, for
  block tags such as ``</p><p>``); the inner text stays.

Regexes are applied only to lines of at most ``max_rule_line_chars`` characters (longer lines
are running text), which bounds the cost of any user pattern.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import xxhash

try:  # private modules (3.11+): the rule prefilters are off wherever they are missing or differ
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre = _sre_parse = None

from cleancorpus.config import ConfigError, Frozen, config_dir

__all__ = ["RuleError", "explain", "line_keys", "load_rules", "strip"]

KINDS = ("line", "block", "front_matter", "html")
ZONES = ("header", "footer", "edges", "anywhere")
_RULE_KEYS = {
    "name",
    "kind",
    "zone",
    "pattern",
    "max_chars",
    "continuation",
    "replace",
    "end",
    "inner",
    "max_lines",
    "reason",
    "next",
    "beside",
    "value_lines",
}
_REQUIRED = ("name", "kind", "pattern")
_SPACE = re.compile(r"\s+")


class RuleError(ConfigError):
    """A bad rule file or rule: one line naming the rule, the file and the problem."""


@dataclass(frozen=True)
class Rule:
    name: str  # counter key, e.g. "strip.copyright"
    kind: str
    zone: str
    pattern: re.Pattern[str]
    source: str
    max_chars: int = 0  # 0: no limit besides max_rule_line_chars
    continuation: re.Pattern[str] | None = None
    replace: str = ""
    end: re.Pattern[str] | None = None
    inner: re.Pattern[str] | None = None
    max_lines: int = 0
    reason: str = ""
    next: re.Pattern[str] | None = None  # the next non-blank line must match
    beside: bool = False  # only next to a line another rule removes
    value_lines: int = 0  # the next lines are the matched key's values (a register cell)

    def in_zone(self, zone: str) -> bool:
        if self.zone == "anywhere" or zone == "none":
            return True
        if self.zone == "edges":
            return zone in ("header", "footer")
        return self.zone == zone


@dataclass(frozen=True)
class Rules:
    front_matter: tuple[Rule, ...]
    html: tuple[Rule, ...]
    lines: tuple[Rule, ...]  # line and block rules, in file order
    line_checks: _Checks  # line and block rules, for the hot loop
    anywhere_checks: _Checks  # the same, ``anywhere`` rules only
    body_sentence: re.Pattern[str]
    body_min_chars: int
    body_end: re.Pattern[str]
    body_short_min_chars: int
    max_line: int
    template_min_docs: int
    template_min_chars: int
    template_max_chars: int
    template_zone: str
    body_min_cjk_share: float
    header_anchors: frozenset[str]
    footer_triggers: frozenset[str]
    table_guarded: frozenset[str]
    nav_words: re.Pattern[str]
    body_fallback: bool
    latin_chrome: int  # longest header line without Chinese that counts as chrome; 0: off
    footer_spare: re.Pattern[str]
    title_min_cjk: int
    byline_rules: frozenset[str]
    byline_date: re.Pattern[str]
    chrome_max_chars: int
    follow: re.Pattern[str]
    byline_reach: int
    name_max_share: float
    running_head_rules: frozenset[str]
    running_head_max_chars: int
    seen: dict[str, _Line] = field(default_factory=dict, compare=False, repr=False)  # _facts
    keys: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)


def _compile_regex(text: Any, what: str, rule: str, source: str) -> re.Pattern[str]:
    if not isinstance(text, str):
        raise RuleError(f"rule '{rule}' in {source}: {what} must be a string")
    try:
        return re.compile(text)
    except re.error as exc:
        raise RuleError(f"rule '{rule}' in {source}: bad regex in {what}: {exc}") from None


def _make_rule(raw: Any, source: str, index: int) -> Rule:
    if not isinstance(raw, Mapping):
        raise RuleError(f"rule #{index} in {source}: a rule must be a table")
    label = str(raw.get("name", f"#{index}"))
    for key in _REQUIRED:
        if key not in raw:
            raise RuleError(f"rule '{label}' in {source}: missing key '{key}'")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise RuleError(f"rule '{label}' in {source}: unknown key '{unknown[0]}'")
    name = raw["name"]
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise RuleError(f"rule '{label}' in {source}: name must be letters, digits, _ . -")
    kind = raw["kind"]
    if kind not in KINDS:
        raise RuleError(
            f"rule '{name}' in {source}: unknown kind '{kind}' (one of {', '.join(KINDS)})"
        )
    zone = raw.get("zone", "anywhere")
    if zone not in ZONES:
        raise RuleError(
            f"rule '{name}' in {source}: unknown zone '{zone}' (one of {', '.join(ZONES)})"
        )
    for key in ("max_chars", "max_lines", "value_lines"):
        value = raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RuleError(f"rule '{name}' in {source}: {key} must be a non-negative integer")
    if not isinstance(raw.get("beside", False), bool):
        raise RuleError(f"rule '{name}' in {source}: beside must be true or false")
    for key in ("replace", "reason"):
        if not isinstance(raw.get(key, ""), str):
            raise RuleError(f"rule '{name}' in {source}: {key} must be a string")

    def opt(key: str) -> re.Pattern[str] | None:
        return _compile_regex(raw[key], key, name, source) if key in raw else None

    return Rule(
        name=name if name.startswith("strip.") else f"strip.{name}",
        kind=kind,
        zone=zone,
        pattern=_compile_regex(raw["pattern"], "pattern", name, source),
        source=source,
        max_chars=raw.get("max_chars", 0),
        continuation=opt("continuation"),
        replace=raw.get("replace", ""),
        end=opt("end"),
        inner=opt("inner"),
        max_lines=raw.get("max_lines", 0),
        reason=raw.get("reason", ""),
        next=opt("next"),
        beside=raw.get("beside", False),
        value_lines=raw.get("value_lines", 0),
    )


def _read_rule_file(path: Path) -> list[Any]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise RuleError(f"cannot read rule file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"invalid TOML in rule file {path}: {exc}") from None
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise RuleError(f"rule file {path}: 'rules' must be an array of tables ([[rules]])")
    return rules


def load_rules(cfg: Mapping[str, Any]) -> list[Rule]:
    """Every rule named by ``cfg`` (the ``[strip]`` section), in order, validated.

    ``rules_files`` are relative to the shipped config directory, ``extra_rules_files`` to the
    working directory (absolute paths work for both); inline ``rules`` (``[[strip.rules]]`` in a
    ``--config`` file) come last. Rules named in ``disabled_rules`` are dropped.
    """
    raws: list[tuple[Any, str, int]] = []
    base = config_dir()
    for name in cfg.get("rules_files", ()):
        path = base / name
        raws += [(r, str(path), i) for i, r in enumerate(_read_rule_file(path), 1)]
    for name in cfg.get("extra_rules_files", ()):
        path = Path(name)
        raws += [(r, str(path), i) for i, r in enumerate(_read_rule_file(path), 1)]
    raws += [(r, "config [strip] rules", i) for i, r in enumerate(cfg.get("rules", ()), 1)]
    disabled = {
        d if d.startswith("strip.") else f"strip.{d}" for d in cfg.get("disabled_rules", ())
    }
    rules = [_make_rule(raw, source, i) for raw, source, i in raws]
    return [r for r in rules if r.name not in disabled]


def check_config(cfg: Frozen) -> None:
    """Raise ConfigError when the [strip] settings or rules cannot be used (a bad rule file, a
    pattern that does not compile): a usage error before anything runs."""
    try:
        _compiled(cfg)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"strip: {exc}") from None


@lru_cache(maxsize=16)
def _compiled(cfg: Frozen) -> Rules:
    rules = load_rules(cfg)
    max_line = int(cfg["max_rule_line_chars"])
    zone = cfg.get("template_zone", "edges")

    def setting_regex(key: str) -> re.Pattern[str]:
        return _compile_regex(cfg[key], key, "config", "[strip]")

    if zone not in ("edges", "anywhere"):
        raise RuleError(
            f"config key 'strip.template_zone' must be 'edges' or 'anywhere', not {zone!r}"
        )
    return Rules(
        front_matter=tuple(r for r in rules if r.kind == "front_matter"),
        html=tuple(r for r in rules if r.kind == "html"),
        lines=tuple(r for r in rules if r.kind in ("line", "block")),
        line_checks=_Checks([r for r in rules if r.kind in ("line", "block")], max_line),
        anywhere_checks=_Checks(
            [r for r in rules if r.kind in ("line", "block") and r.zone == "anywhere"], max_line
        ),
        body_sentence=setting_regex("body_sentence_pattern"),
        body_min_chars=int(cfg["body_min_chars"]),
        body_end=setting_regex("body_end_pattern"),
        body_short_min_chars=int(cfg["body_short_min_chars"]),
        max_line=int(cfg["max_rule_line_chars"]),
        template_min_docs=int(cfg["template_min_docs"]),
        template_min_chars=int(cfg["template_min_chars"]),
        template_max_chars=int(cfg["template_max_chars"]),
        template_zone=zone,
        body_min_cjk_share=float(cfg["body_min_cjk_share"]),
        header_anchors=_names(cfg["header_anchor_rules"]),
        footer_triggers=_names(cfg["footer_cut_rules"]),
        table_guarded=_names(cfg["table_guard_rules"]),
        nav_words=setting_regex("table_guard_nav_words"),
        body_fallback=bool(cfg["body_fallback"]),
        latin_chrome=int(cfg["latin_edge_max_chars"]) if cfg["latin_edge_lines"] else 0,
        title_min_cjk=int(cfg["title_min_cjk"]),
        byline_rules=_names(cfg["byline_rules"]),
        byline_date=setting_regex("byline_date_pattern"),
        chrome_max_chars=int(cfg["header_chrome_max_chars"]),
        follow=setting_regex("follow_pattern"),
        byline_reach=int(cfg["byline_reach"]),
        name_max_share=float(cfg["name_max_share"]),
        running_head_rules=_names(cfg["running_head_rules"]),
        running_head_max_chars=int(cfg["running_head_max_chars"]),
        footer_spare=setting_regex("footer_cut_spare_pattern"),
    )


def _names(names: Any) -> frozenset[str]:
    return frozenset(n if n.startswith("strip.") else f"strip.{n}" for n in names)


# ---- prefilters, derived from the rules' parse trees ---------------------------------------
# Nearly every rule is anchored (``^…``), and the first character of a line rules most of them
# out: "会议强调，…" cannot start a breadcrumb, a copyright line or a page number. From each
# pattern's parse tree we derive the characters a match may start with, and run only the rules
# that can start with the line's first character; a rule that remains runs only if the line
# holds one of the strings every match of it contains (see _needs). Anything the analysis does
# not know (a flag, ``.``, an unanchored or possibly empty pattern…) leaves the rule unfiltered,
# so a rule file of any shape still gives the same matches.

# (rule, longest line it applies to, literal prefilter's search or None, the rule's search)
Check = tuple[Rule, int, Any, Any]


class _Checks:
    """Line and block rules in file order; per first character of a line, those that can
    match it (worked out when the character is first seen)."""

    def __init__(self, rules: list[Rule], max_line: int) -> None:
        self.all: tuple[Check, ...] = tuple(
            (r, min(r.max_chars or max_line, max_line), _needs(r.pattern), r.pattern.search)
            for r in rules
        )
        self._first = [_first_chars(r.pattern) for r in rules]
        self._by_char: dict[str, tuple[Check, ...]] = {}
        self.nexts = any(r.next is not None for r in rules)  # see _with_next

    def starting(self, c: str) -> tuple[Check, ...]:
        found = self._by_char.get(c)
        if found is None:
            found = self._by_char[c] = tuple(
                check
                for check, first in zip(self.all, self._first, strict=True)
                if first is None or first(c)
            )
        return found

    def run(self, s: str) -> tuple[Rule, ...]:
        """The rules that match the line ``s`` (not blank, at most ``max_line`` long)."""
        n = len(s)
        return tuple(
            [
                r
                for r, limit, needs, search in self.starting(s[0])
                if n <= limit and (needs is None or needs(s)) and search(s)
            ]
        )


_CATEGORIES = (
    {
        _sre.CATEGORY_DIGIT: r"\d",
        _sre.CATEGORY_NOT_DIGIT: r"\D",
        _sre.CATEGORY_SPACE: r"\s",
        _sre.CATEGORY_NOT_SPACE: r"\S",
        _sre.CATEGORY_WORD: r"\w",
        _sre.CATEGORY_NOT_WORD: r"\W",
    }
    if _sre is not None
    else {}
)
_Firsts = tuple[list[str], bool]  # character classes a match may start with; may it be empty


def _first_chars(pattern: re.Pattern[str]) -> Any:
    """``match`` of a regex that every first character of a match of ``pattern`` matches, or
    None if ``pattern`` may match anywhere in a line, or match nothing, or is beyond the
    analysis."""
    if _sre_parse is None or pattern.flags != re.UNICODE:  # (?i), multiline…: keep it simple
        return None
    try:  # a private module: whatever it does in another Python, fall back
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        if parsed.state.flags != re.UNICODE or not _anchored(parsed.data):
            return None
        firsts = _firsts(parsed.data)
        if firsts is None or firsts[1]:
            return None
        return re.compile("|".join(dict.fromkeys(firsts[0])) or "(?!)").match
    except Exception:
        return None


def _anchored(items: list[Any]) -> bool:
    """Whether every match starts at the start of the string (``^`` or ``\\A`` on every path)."""
    if not items:
        return False
    op, av = items[0]
    if op == _sre.AT:
        return av in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING)
    if op == _sre.BRANCH:
        return all(_anchored(seq) for seq in av[1])
    if op == _sre.SUBPATTERN:
        return not (av[1] or av[2]) and _anchored(av[3])
    if op == _sre.ATOMIC_GROUP:
        return _anchored(av)
    return False


def _firsts(items: list[Any]) -> _Firsts | None:
    classes: list[str] = []
    for op, av in items:
        got = _item_firsts(op, av)
        if got is None:
            return None
        classes += got[0]
        if not got[1]:
            return classes, False
    return classes, True


def _char(c: int) -> str:
    return f"\\U{c:08x}"


def _item_firsts(op: Any, av: Any) -> _Firsts | None:
    if op == _sre.LITERAL:
        return [_char(av)], False
    if op == _sre.NOT_LITERAL:
        return [f"[^{_char(av)}]"], False
    if op == _sre.IN:
        parts = []
        for k, (iop, iav) in enumerate(av):
            if iop == _sre.NEGATE and k == 0:
                parts.append("^")
            elif iop == _sre.LITERAL:
                parts.append(_char(iav))
            elif iop == _sre.RANGE:
                parts.append(f"{_char(iav[0])}-{_char(iav[1])}")
            elif iop == _sre.CATEGORY and iav in _CATEGORIES:
                parts.append(_CATEGORIES[iav])
            else:
                return None
        return [f"[{''.join(parts)}]"], False
    if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
        return [], True  # zero-width: the next item consumes the first character
    if op == _sre.BRANCH:
        classes: list[str] = []
        empty = False
        for seq in av[1]:
            got = _firsts(seq)
            if got is None:
                return None
            classes += got[0]
            empty = empty or got[1]
        return classes, empty
    if op == _sre.SUBPATTERN:
        return None if av[1] or av[2] else _firsts(av[3])
    if op == _sre.ATOMIC_GROUP:
        return _firsts(av)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, high, seq = av
        got = _firsts(seq) if high else ([], True)
        return None if got is None else (got[0], got[1] or low == 0)
    return None


_MAX_LITERALS = 256  # a longer list of strings to look for is no cheaper than the rule
_SMALL_CLASS = 4  # [报報] and [关關] spell variants of one word: expanded into literals


def _needs(pattern: re.Pattern[str]) -> Any:
    """``search`` of a regex of plain strings, one of which every match of ``pattern``
    contains ("ICP|icp|公网安备|…" for the licence rule), or None if the analysis finds none.
    A rule that may match after any prefix ("^[^。！？]{0,40}(?:打印本页|…)") scans the whole
    line for each of its alternatives; looking for the strings first is far cheaper."""
    if _sre_parse is None or pattern.flags != re.UNICODE:
        return None
    try:  # a private module: whatever it does in another Python, fall back
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        if parsed.state.flags != re.UNICODE:
            return None
        found = _literals(parsed.data)
        if not found:
            return None
        return re.compile("|".join(re.escape(s) for s in sorted(found))).search
    except Exception:
        return None


def _literals(items: list[Any]) -> set[str] | None:
    """Strings one of which every match of the parsed sequence contains, or None."""
    best: set[str] | None = None
    run = [""]  # what a run of one-character items just seen may spell
    for op, av in items:
        chars = _one_char(op, av)
        if chars is not None and len(run) * len(chars) <= _MAX_LITERALS:
            run = [r + c for r in run for c in chars]
            continue
        if run != [""]:
            best = _more_selective(set(run), best)
        run = [""] if chars is None else chars
        if chars is None:
            best = _more_selective(_item_literals(op, av), best)
    if run != [""]:
        best = _more_selective(set(run), best)
    return best


def _one_char(op: Any, av: Any) -> list[str] | None:
    """The characters an item of exactly one character matches, if it is a literal or a small
    set of them."""
    if op == _sre.LITERAL:
        return [chr(av)]
    if op == _sre.IN and len(av) <= _SMALL_CLASS and all(i == _sre.LITERAL for i, _ in av):
        return [chr(c) for _, c in av]
    return None


def _item_literals(op: Any, av: Any) -> set[str] | None:
    if op == _sre.BRANCH:
        found: set[str] = set()
        for seq in av[1]:
            got = _literals(seq)
            if got is None:
                return None
            found |= got
        return found if len(found) <= _MAX_LITERALS else None
    if op == _sre.SUBPATTERN:
        return None if av[1] or av[2] else _literals(av[3])
    if op == _sre.ATOMIC_GROUP:
        return _literals(av)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _literals(av[2])
    return None  # zero-width, optional, or beyond the analysis: it requires nothing


def _more_selective(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    """Of two sets of strings that both must occur, the one that rules out more lines: the
    longer shortest string, then fewer strings."""
    if a is None or b is None:
        return b if a is None else a
    return a if (min(map(len, a)), -len(a)) >= (min(map(len, b)), -len(b)) else b


# ---- analysis -----------------------------------------------------------------------------

# An entry: (line, rule name or None, reason). Entries whose rule is "strip.html" (or another
# html rule) are rewrites: the original line, followed by the entries of the lines it became.
Entry = tuple[str, str | None, str]


def _front_matter(lines: list[str], rules: Rules) -> tuple[int, Rule | None]:
    """Number of leading lines that form a front-matter block, and the rule that saw it."""
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first >= len(lines):
        return 0, None
    for rule in rules.front_matter:
        if not rule.pattern.fullmatch(lines[first].strip()):
            continue
        end = rule.end or rule.pattern
        limit = rule.max_lines or 100
        for j in range(first + 1, min(len(lines), first + 1 + limit)):
            s = lines[j].strip()
            if end.fullmatch(s):
                return j + 1, rule
            if s and rule.inner is not None and not rule.inner.search(s[: rules.max_line]):
                break
    return 0, None


def _html(line: str, rules: Rules) -> tuple[list[str], Rule | None]:
    if "<" not in line:
        return [line], None
    out, hit = line, None
    for rule in rules.html:
        new = rule.pattern.sub(rule.replace, out)
        if new != out:
            out, hit = new, hit or rule
    if hit is None:
        return [line], None
    # Block tags become line breaks; the empty pieces around them are not lines of the text.
    parts = [p.strip() for p in out.split("\n")]
    return [p for p in parts if p] or [""], hit


def _hash(norm: str) -> int:
    return xxhash.xxh64_intdigest(norm.encode("utf-8", "surrogatepass"))


def _prepare(text: str, rules: Rules) -> tuple[dict[int, list[Entry]], list[str], bool]:
    """Front matter and HTML pass.

    Returns the lines left for the line rules, and the entries (front matter, tag rewrites)
    that ``explain`` lists just before the line of each index (``len(lines)``: at the end).
    """
    trailing_nl = text.endswith("\n")
    raw = (text[:-1] if trailing_nl else text).split("\n")
    pre: dict[int, list[Entry]] = {}
    n_front, fm_rule = _front_matter(raw, rules)
    if fm_rule is not None:
        reason = fm_rule.reason or "front matter block"
        pre[0] = [(line, fm_rule.name, reason) for line in raw[:n_front]]
    if "<" not in text:
        return pre, raw[n_front:], trailing_nl  # no tags (most pages): the lines as they are
    work: list[str] = []
    for line in raw[n_front:]:
        parts, rule = _html(line, rules)
        if rule is None:
            work.append(line)
        elif parts == [""]:
            # Only tags (an <img>, a comment): the line goes, it does not become a blank line.
            pre.setdefault(len(work), []).append((line, rule.name, "only tags"))
        else:
            why = "tags removed, kept: " + " / ".join(parts)
            pre.setdefault(len(work), []).append((line, rule.name, why))
            work.extend(parts)
    return pre, work, trailing_nl


# Line facts by line (``Rules.seen``, and ``Rules.keys`` for template keys): a site's nav bars,
# bylines and footers recur in every one of its pages, so most header and footer lines are
# looked at once per run, not once per page. Paragraphs are not kept: they seldom recur, and
# they would push the furniture out (a full cache is emptied). Matches are tuples: shared,
# never changed.
_MATCHES_MAX = 50_000  # lines kept per cache
_MATCH_CACHE_MAX_CHARS = 200  # longer lines are paragraphs


class _Line:
    """What a non-blank line is wherever it stands: the ``anywhere`` rules it matches (before
    their ``next`` conditions), whether it is a body paragraph, its shape if it may be a table
    row; the line and block rules it matches and its template key once asked for (only
    header and footer lines are)."""

    __slots__ = ("_key", "_matches", "body", "near", "row")

    def __init__(self, s: str, rules: Rules) -> None:
        self.near = rules.anywhere_checks.run(s) if len(s) <= rules.max_line else ()
        self.body = _is_body(s, rules)
        self.row = _row_shape(s, rules)
        self._matches: tuple[Rule, ...] | None = None
        self._key: int | None = -1  # -1: not worked out yet (xxh64 digests are unsigned)

    def matches(self, s: str, rules: Rules) -> tuple[Rule, ...]:
        if self._matches is None:
            self._matches = rules.line_checks.run(s) if len(s) <= rules.max_line else ()
            if self.body:
                # A paragraph outside the body (see _facts): a site's disclaimer, repeated.
                _keep(rules.seen, s, self)
        return self._matches

    def key(self, s: str, rules: Rules) -> int | None:
        if self._key == -1:
            self._key = _template_key(s, rules)
        return self._key


def _template_key(s: str, rules: Rules) -> int | None:
    """The key of a non-blank line that may be a template line (see :func:`line_keys`): the
    xxh64 of the line without white space, casefolded; or None."""
    key = rules.keys.get(s, -1)  # xxh64 digests are unsigned
    if key != -1:
        return key
    # Paragraphs (most lines) are told apart first, before any copy, and not kept in
    # ``Rules.keys``: they seldom recur.
    if rules.body_end.search(s[-8:]):
        return None  # ends like a sentence
    # str.split() splits on exactly the characters \s matches (str.isspace), in less time.
    bare = "".join(s.split())
    # Casefolding never shortens a string: a paragraph is too long before it is folded.
    if len(bare) > rules.template_max_chars:
        return None
    norm = bare.casefold()
    ok = rules.template_min_chars <= len(norm) <= rules.template_max_chars
    key = _hash(norm) if ok and not _is_body(s, rules) else None
    _keep(rules.keys, s, key)
    return key


def _facts(s: str, rules: Rules) -> _Line:
    found = _Line(s, rules)
    if not found.body:
        # Page furniture, that the site's next pages repeat; not paragraphs, that seldom recur
        # (kept if found outside the body, see _Line.matches).
        _keep(rules.seen, s, found)
    return found


def _keep(cache: dict[str, Any], s: str, value: Any) -> None:
    if len(s) <= _MATCH_CACHE_MAX_CHARS:
        if len(cache) >= _MATCHES_MAX:
            cache.clear()
        cache[s] = value


def _is_body(s: str, rules: Rules) -> bool:
    """A long line with sentence punctuation: running text."""
    return len(s) >= rules.body_min_chars and bool(rules.body_sentence.search(s[: rules.max_line]))


def _is_sentence(s: str, rules: Rules) -> bool:
    """A shorter line that ends like a sentence (a short closing paragraph)."""
    return len(s) >= rules.body_short_min_chars and bool(rules.body_end.search(s[-8:]))


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_PUNCT = re.compile(r"[^\w\s·]")


def _cjk_count(s: str) -> int:
    return len(s) - len(_CJK.sub("", s))  # in C, without a list of one-character strings


def _cjk_share(s: str) -> float:
    """Share of wide characters (three UTF-8 bytes: Chinese, full-width punctuation) among
    the non-space characters, estimated from the encoded length: fast on long paragraphs."""
    n = len(s) - s.count(" ")
    return (len(s.encode("utf-8", "surrogatepass")) - len(s)) / 2 / n if n else 0.0


Matches = list[tuple[Rule, ...]]  # by line: the rules it matches
Decision = tuple[str | None, str]  # rule name (None: kept) and reason
_KEPT: Decision = (None, "")

# From here on, the lines are the page's non-blank lines, stripped: blank lines play no part
# in where the body is or what goes (``_analyse`` settles them), so a neighbour is the next
# line in the list. ``line_no`` gives each one's number in the page, for the reasons.


def _with_next(lines: list[str], matches: Matches, checks: _Checks, rules: Rules) -> None:
    """Drop matches whose ``next`` condition (on the next line) fails."""
    if not checks.nexts:
        return  # no rule of the set has one
    for i, found in enumerate(matches):
        if found and any(r.next is not None for r in found):
            nxt = lines[i + 1][: rules.max_line] if i + 1 < len(lines) else ""
            matches[i] = tuple(r for r in found if r.next is None or r.next.search(nxt))


_HARD_END = frozenset({"strip.licence", "strip.copyright"})
_DASHES = ("—", "－", "--", "─")
# A credit line between the title and a dated byline: "英国《金融时报》 马丁·阿诺德 法兰克福报道",
# "本报记者 张三", "文/李四".
_CREDIT = re.compile(
    r"(?:报道|報導|撰文|专稿|專稿|[记記]者\s{0,2}\S{1,12})$|^(?:文|图|圖|文图|撰文|[译譯]者?)\s{0,2}[/|｜:：]"
)


def _body_bounds(
    lines: list[str], facts: list[_Line], near: Matches, rules: Rules
) -> tuple[int | None, int | None, bool]:
    """First and last body paragraph, and whether the body is Chinese text. ``near``: the
    ``anywhere`` rules each line matches."""
    # A line an ``anywhere`` rule removes cannot bound the body (seed 002's long disclaimer
    # after the article must not make the 延伸阅读 list part of the body).
    body = [i for i, f in enumerate(facts) if f.body and not near[i]]
    # In a Chinese page, a long line without Chinese ("GMT+8, …, Processed in 0.07 s, …", an
    # English footer sentence) does not make the body; a page without Chinese keeps them all.
    # Only the first and the last Chinese paragraph count: looked for from both ends.
    share = rules.body_min_cjk_share
    first = next((i for i in body if _cjk_share(lines[i]) >= share), None)
    if first is not None:
        # Nothing below a licence or copyright line is the article's: a long furniture
        # sentence under it ("为了获得最佳浏览效果，建议您使用…浏览器") must not stretch the body.
        stop = next(
            (i for i in range(first + 1, len(lines)) if any(r.name in _HARD_END for r in near[i])),
            len(lines),
        )
        last = next(i for i in reversed(body) if i < stop and _cjk_share(lines[i]) >= share)
        return first, last, True
    if not body and rules.body_fallback:
        # A page of short lines (a results notice of "key：value" items): its sentences (at
        # least body_short_min_chars, ending like body_end_pattern: not a headline ending
        # in ！ or ？) bound the body instead.
        body = [
            i
            for i, s in enumerate(lines)
            if _is_sentence(s, rules) and not near[i] and _cjk_share(s) >= share
        ]
    if not body:
        return None, None, False
    return body[0], body[-1], False


def _extend_end(lines: list[str], matches: Matches, end: int, rules: Rules) -> int:
    """The body's last line, with a short closing sentence below the last paragraph."""
    # A short closing sentence ("特此通知。") extends the body; it never starts it, as a
    # headline ending in ？ or a one-line lead could. The search stops at the first line of
    # page furniture: a sentence below a share widget or a 责任编辑 line is not the article's.
    for i in range(end + 1, len(lines)):
        if any(r.name in rules.footer_triggers for r in matches[i]):
            break
        if not matches[i] and _is_sentence(lines[i], rules):
            end = i
    return end


def _classify(
    lines: list[str], line_no: list[int], rules: Rules, template: Mapping[int, int]
) -> list[Decision]:
    seen = rules.seen
    facts = [seen.get(s) or _facts(s, rules) for s in lines]
    # The body is bounded by paragraphs and ``anywhere`` rules only; inside it no other rule
    # can act, so the header and footer lines alone are matched against every rule.
    matches = [f.near for f in facts]
    _with_next(lines, matches, rules.anywhere_checks, rules)
    start, end, cjk_body = _body_bounds(lines, facts, matches, rules)
    if start is None or end is None:
        matches = [f.matches(s, rules) for f, s in zip(facts, lines, strict=True)]
    else:
        matches[:start] = [
            f.matches(s, rules) for f, s in zip(facts[:start], lines[:start], strict=True)
        ]
        matches[end + 1 :] = [
            f.matches(s, rules) for f, s in zip(facts[end + 1 :], lines[end + 1 :], strict=True)
        ]
    _with_next(lines, matches, rules.line_checks, rules)
    table = _table_rows(lines, facts, matches, rules)
    if table:
        for i in table:
            matches[i] = tuple(r for r in matches[i] if r.name not in rules.table_guarded)
    if start is None or end is None:
        zones = ["none"] * len(lines)
    else:
        end = _extend_end(lines, matches, end, rules)
        zones = ["header"] * start + ["body"] * (end + 1 - start)
        zones += ["footer"] * (len(lines) - len(zones))

    out: list[Decision] = [_KEPT] * len(lines)
    beside: list[tuple[int, Rule]] = []  # lines only a ``beside`` rule matches
    repeated: list[tuple[int, int]] = []  # template lines outside the body, with their counts
    block: tuple[Rule, int, str] | None = None  # rule, line number, zone it cuts
    i = 0
    while i < len(lines):
        z = zones[i]
        if block is not None and z != block[2]:
            block = None
        usable = matches[i]  # most lines: none
        if usable:
            usable = [r for r in usable if r.in_zone(z) and (r.kind == "line" or z != "none")]
        rule = next((r for r in usable if not r.beside), None) if usable else None
        if rule is None and usable and block is None:
            beside.append((i, usable[0]))
        if rule is not None:
            why = rule.reason or f"matches rule {rule.name} ({z})"
            out[i] = (rule.name, why if rule.next is None else f"{why} (the next line matches)")
            if rule.kind == "block" and block is None:
                block = (rule, i, z)
            if rule.value_lines:
                # A register key alone on its line: its value is the next line, whatever it
                # says (a date, an ID, an office's name), if no rule claims it.
                j = i + 1
                while j <= i + rule.value_lines and j < len(lines) and zones[j] == z:
                    if matches[j] or (facts[j].body and z == "body"):
                        break
                    out[j] = (rule.name, f"value of the {rule.name} line {line_no[i]}")
                    j += 1
                i = j
                continue
            if rule.continuation is not None:
                j = i + 1
                while j < len(lines):
                    t = lines[j]
                    if (
                        len(t) > rules.max_line
                        or not rule.continuation.search(t)
                        or (matches[j] and rule not in matches[j])
                        or (facts[j].body and zones[j] == "body")
                    ):
                        break
                    out[j] = (rule.name, f"continues the {rule.name} line {line_no[i]}")
                    j += 1
                i = j
                continue
        elif block is not None:
            out[i] = (
                block[0].name,
                f"in the block opened by {block[0].name} at line {line_no[block[1]]}",
            )
        elif (
            template
            and (rules.template_zone == "anywhere" or z != "body")
            and (key := facts[i].key(lines[i], rules)) is not None
        ):
            count = template.get(key, 0)
            if count >= rules.template_min_docs:
                repeated.append((i, count))
        i += 1
    if repeated:
        _template_lines(lines, out, repeated, start, end, rules)
    _beside(out, line_no, beside)
    if start is not None and end is not None:
        # The heuristics judge the lines no rule removed: most pages have none left around
        # the body.
        if _KEPT in out[:start]:
            _header_chrome(lines, line_no, matches, out, set(table), start, cjk_body, rules)
        if _KEPT in out[end + 1 :]:
            _footer_chrome(lines, line_no, out, set(table), end, cjk_body, rules)
    _running_heads(lines, line_no, out, rules)
    return out


def _template_lines(
    lines: list[str],
    out: list[Decision],
    repeated: list[tuple[int, int]],
    start: int | None,
    end: int | None,
    rules: Rules,
) -> None:
    """Remove the template lines that stand in the page's furniture, not in the notice's own
    opening and closing (its salutation, signature, contacts, "（此件公开发布）": lines an office
    repeats in every notice). In the header: above the last line a rule removed, or with
    nothing kept above, but never the title (the line right above a dated byline), however
    many of the site's pages list it under 推荐阅读. In the footer: below the first line a rule
    removed, or in a footer where nothing else is kept. Without a body (or with
    ``template_zone = "anywhere"``), all.
    """
    if start is None or end is None or rules.template_zone == "anywhere":
        for i, count in repeated:
            out[i] = ("strip.template", f"repeated in {count} documents")
        return
    candidates = {i for i, _ in repeated}
    removed = [k for k, (rule, _) in enumerate(out) if rule is not None]
    last_rule = max((k for k in removed if k < start), default=-1)
    first_rule = min((k for k in removed if k > end), default=len(out))
    kept = [k for k, d in enumerate(out) if d is _KEPT and k not in candidates]
    first_kept = kept[0] if kept else len(out)
    footer_kept = any(k > end for k in kept)
    for i, count in repeated:
        # (Only header and footer lines are candidates here: "anywhere" returned above.)
        if i < start:
            title = (
                i + 1 < len(out)
                and out[i + 1][0] in rules.byline_rules
                and rules.byline_date.search(lines[i + 1]) is not None
            )
            furniture = not title and (i < last_rule or i < first_kept)
        else:
            furniture = i > first_rule or not footer_kept
        if furniture:
            out[i] = ("strip.template", f"repeated in {count} documents")


def _beside(out: list[Decision], line_no: list[int], beside: list[tuple[int, Rule]]) -> None:
    """Apply ``beside`` rules: a matching line goes only next to a removed line (a run of
    site contact lines under the licence goes; a notice's own contact lines stay)."""
    changed, order = True, beside
    while changed:
        # Alternate directions, so that a run of such lines is settled in two passes.
        changed, order = False, order[::-1]
        for i, rule in order:
            if out[i][0] is not None:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(out) and out[j][0] is not None:
                    why = rule.reason or f"matches rule {rule.name}"
                    out[i] = (rule.name, f"{why}, next to removed line {line_no[j]}")
                    changed = True
                    break


def _running_heads(lines: list[str], line_no: list[int], out: list[Decision], rules: Rules) -> None:
    """A PDF's running header or footer: a short line next to a page number that is a copy of
    another line of the document (the title repeated on every page). Its first occurrence,
    away from page numbers, stays."""
    if rules.running_head_rules.isdisjoint(map(itemgetter(0), out)):
        return  # no page number: nothing to count (most pages)
    seen = Counter(lines)
    for i, (rule, _) in enumerate(out):
        if rule not in rules.running_head_rules:
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(lines) or out[j][0] is not None:
                continue
            s = lines[j]
            if seen[s] >= 2 and len(s) <= rules.running_head_max_chars and not _is_body(s, rules):
                out[j] = (
                    "strip.running_head",
                    f"repeated next to the page number at line {line_no[i]}",
                )


def _table_rows(lines: list[str], facts: list[_Line], matches: Matches, rules: Rules) -> list[int]:
    """Lines of a flattened table: two or more | (or tabs), as many of the same kind as in the
    line above or below ("姓名 | 单位 | 职务" over "张三 | 某局 | 科长"). A nav rule may take
    such rows for a menu, but they are text, and they say nothing about where the page's
    chrome ends. Not a table: a line with a menu word (``table_guard_nav_words``: 首页, Home…),
    a repeated line, or a neighbour that another kind of rule removes (a register row, a
    forum footer). Nor rows with nothing above them but rows, lines that rules remove and
    menu words (登录): nav bars stacked at the top of a page ("中国网 | 新闻 | 图片 | 视频" over
    "发布会 | 权威发布 | 政策解读 | 图片直播"); a table comes below some text, its title at least."""
    top = 0
    while top < len(lines) and (
        facts[top].row is not None
        or any(r.name not in rules.table_guarded for r in matches[top])
        or (len(lines[top]) <= rules.chrome_max_chars and rules.nav_words.search(lines[top]))
    ):
        top += 1
    table = []
    for i in [i for i, f in enumerate(facts) if f.row is not None and i >= top]:
        if any(r.name not in rules.table_guarded for r in matches[i]):
            continue
        for j in (i - 1, i + 1):
            if (
                0 <= j < len(lines)
                and facts[j].row == facts[i].row
                and lines[j] != lines[i]
                and all(r.name in rules.table_guarded for r in matches[j])
            ):
                table.append(i)
                break
    return table


def _row_shape(s: str, rules: Rules) -> tuple[int, int] | None:
    """The numbers of | and of tabs of a line that may be a table row (see _table_rows)."""
    if "|" not in s and "｜" not in s and "\t" not in s:
        return None  # most lines
    shape = s.count("|") + s.count("｜"), s.count("\t")
    return None if max(shape) < 2 or rules.nav_words.search(s) else shape


def _named_in_byline(lines: list[str], out: list[Decision], i: int, rules: Rules) -> int:
    """The nearby byline that repeats line ``i`` ("某某日报" above "2023-05-06 12:03 发布于湖北
    某某日报官方账号"), or -1. The line must be a small part of the byline: a title repeated in
    a register line ("标题：…") is most of it."""
    s = lines[i]
    for step in (-1, 1):
        for j in range(i + step, i + step * (rules.byline_reach + 1), step):
            if not 0 <= j < len(lines):
                break
            t = lines[j]
            if (
                out[j][0] in rules.byline_rules
                and s in t
                and len(s) <= rules.name_max_share * len(t)
            ):
                return j
    return -1


def _spared(s: str, rules: Rules, cjk_body: bool) -> bool:
    return (
        len(s) >= rules.body_short_min_chars
        and bool(rules.footer_spare.search(s[: rules.max_line]))
        # An English platform notice under a Chinese article is no remark of the article's.
        and (not cjk_body or _cjk_share(s) >= rules.body_min_cjk_share)
    )


def _header_chrome(
    lines: list[str],
    line_no: list[int],
    matches: Matches,
    out: list[Decision],
    table: set[int],
    start: int,
    cjk_body: bool,
    rules: Rules,
) -> None:
    """Zone heuristics for the lines no rule removed, in the header.

    - Above the last navigation bar or breadcrumb of the header, everything is site chrome
      (logo text, site name, weather, menu items): the title is always below them.
    - Short plain lines above the title, or between the title and a follow button, and an
      account name repeated in the byline are chrome too.
    - In a Chinese page, a header line without any Chinese is chrome (an English site name).
    """
    # Lines of the header that may be the title (worked out before any is marked as chrome).
    title_like = [
        out[i][0] is None and _cjk_count(s) >= rules.title_min_cjk and not s.endswith((":", "："))
        for i, s in enumerate(lines[:start])
    ]
    # The last anchor above a possible title: a line that nothing but anchor rules match
    # ("来源：… | 发布时间：…" and "打印 | 关闭 | 收藏" under a title also look like nav bars),
    # with a title-like line between it and the body (a widget row right above the first
    # paragraph says nothing about where the title is).
    anchor = -1
    has_title_below = False
    for i in range(start - 1, -1, -1):
        if title_like[i]:
            has_title_below = True
        elif (
            has_title_below
            and out[i][0] in rules.header_anchors
            and i not in table
            and all(r.name in rules.header_anchors for r in matches[i])
        ):
            anchor = i
            break
    # Below the anchor, the title is the line right above a dated byline ("作者：… 时间：…",
    # "2023-10-30 来源：…"): short lines above the title are menu items and site names.
    title = -1
    for i in range(anchor + 1, start):
        # Any rule may have removed it first ("发布时间：… 【字体：大 中 小】" is a widget too).
        if (
            out[i][0] is not None
            and rules.byline_date.search(lines[i])
            and any(r.name in rules.byline_rules for r in matches[i])
        ):
            if i - 1 > anchor and title_like[i - 1]:
                title = i - 1
                # A line opening with a dash is a subtitle ("——记青藏铁路巡道工"), and a credit
                # line is no title either: the title is the line above, however short.
                if (
                    title - 1 > anchor
                    and (lines[title].startswith(_DASHES) or _CREDIT.search(lines[title]))
                    and title_like[title - 1]
                ):
                    title -= 1
            break
    # Right below the title, short lines above a follow button are the author's name and
    # description ("张三" / "某某大学 经济学博士" / "关注他").
    author = (-1, -1)
    first = next((i for i in range(anchor + 1, start) if title_like[i]), None)
    if first is not None:
        for i in range(first + 1, start):
            if out[i][0] is not None and rules.follow.search(lines[i]):
                author = (first, i)
                break
    first_title = next((i for i in range(start) if title_like[i]), start)
    # Only below a title known by its dated byline: a short title can stand between a
    # breadcrumb and a metadata line too ("开庭公告").
    between = _between_furniture(lines, out, title, start, rules) if title >= 0 else {}
    for i in range(start):
        s = lines[i]
        if out[i][0] is not None:
            continue
        # A menu item, site or author name is plain words; a kicker above the title
        # ("——记全国劳动模范张某某", "“五一”特别报道") has punctuation.
        plain = len(s) <= rules.chrome_max_chars and not _PUNCT.search(s)
        named = _named_in_byline(lines, out, i, rules) if len(s) <= rules.chrome_max_chars else -1
        if i < anchor:
            out[i] = ("strip.header_chrome", f"above the navigation at line {line_no[anchor]}")
        elif i < title and plain:
            out[i] = ("strip.header_chrome", f"short line above the title at line {line_no[title]}")
        elif author[0] < i < author[1] and plain:
            out[i] = (
                "strip.header_chrome",
                f"author line above the follow button at line {line_no[author[1]]}",
            )
        elif named >= 0:
            out[i] = (
                "strip.header_chrome",
                f"account name, repeated in the byline at line {line_no[named]}",
            )
        elif i in between:
            above, below = between[i]
            out[i] = (
                "strip.header_chrome",
                f"short line between page furniture at lines {line_no[above]} and {line_no[below]}",
            )
        elif (
            cjk_body
            and i < first_title
            and len(s) <= rules.latin_chrome
            and _LATIN.search(s)
            and not _CJK.search(s)
        ):
            out[i] = ("strip.header_chrome", "no Chinese in the header of a Chinese page")


def _between_furniture(
    lines: list[str], out: list[Decision], title: int, start: int, rules: Rules
) -> dict[int, tuple[int, int]]:
    """Header lines below ``title`` in a run of short plain lines (no punctuation) that has a
    removed line right above it and right below it: the pieces of a widget row split one per
    line (字号 / 大 / 中 / 小, 微博 / Qzone / 分享). By line: the furniture above and below."""
    found: dict[int, tuple[int, int]] = {}
    i = title + 1
    while i < start:
        j = i
        while (
            j < start
            and out[j][0] is None
            and len(lines[j]) <= rules.chrome_max_chars
            and not _PUNCT.search(lines[j])
        ):
            j += 1
        if j > i and out[i - 1][0] is not None and j < start and out[j][0] is not None:
            found.update((k, (i - 1, j)) for k in range(i, j))
        i = j + 1
    return found


def _footer_chrome(
    lines: list[str],
    line_no: list[int],
    out: list[Decision],
    table: set[int],
    end: int,
    cjk_body: bool,
    rules: Rules,
) -> None:
    """Below the first line of page furniture in the footer (a share widget, 上一篇, 责任编辑,
    a licence…), everything is furniture (link lists, account names, buttons), except lines
    that read as sentences with a clause."""
    cut = next(
        (
            i
            for i in range(end + 1, len(lines))
            if out[i][0] in rules.footer_triggers and i not in table
        ),
        None,
    )
    if cut is None:
        return
    for i in range(cut + 1, len(lines)):
        s = lines[i]
        if out[i][0] is None and not _spared(s, rules, cjk_body):
            out[i] = (
                "strip.footer_chrome",
                f"below the page furniture at line {line_no[cut]} ({out[cut][0]})",
            )


def _analyse(text: str, cfg: Frozen, template: Mapping[int, int]) -> tuple[list[Entry], bool]:
    rules = _compiled(cfg)
    pre, work, trailing_nl = _prepare(text, rules)
    stripped = [w.strip() for w in work]
    line_no = [k + 1 for k, s in enumerate(stripped) if s]
    decided = iter(_classify([stripped[k - 1] for k in line_no], line_no, rules, template))
    # Blank lines: drop those that removal leaves leading, trailing or doubled.
    last_kept_blank = True
    pending: list[Entry] = []
    for line, s in zip(work, stripped, strict=True):
        if s:
            rule, reason = next(decided)
            if rule is not None:
                pending.append((line, rule, reason))
                continue
            last_kept_blank = False
        elif last_kept_blank:
            pending.append((line, "strip.blank", "blank line left by removed text"))
            continue
        else:
            last_kept_blank = True
        pending.append((line, None, ""))
    for k in range(len(pending) - 1, -1, -1):
        line, rule, _ = pending[k]
        if rule is None and not stripped[k]:
            pending[k] = (line, "strip.blank", "blank line left by removed text")
        elif rule is None:
            break
    if not pre:
        return pending, trailing_nl  # no front matter, no tags (most pages)
    entries: list[Entry] = []
    for k, entry in enumerate(pending):
        entries += pre.get(k, ())
        entries.append(entry)
    return entries + pre.get(len(pending), []), trailing_nl


def explain(
    text: str, cfg: Frozen, template: Mapping[int, int] = {}
) -> list[tuple[str, str | None, str]]:
    r"""Every line with the rule that removed it (``None``: kept) and why.

    Lines rewritten by an html rule appear once as they were (rule ``strip.html``, reason
    naming the kept text), then as the lines they became. ``strip``'s output is exactly the
    lines whose rule is ``None``, joined by newlines.

    Before: ``"当前位置：首页 > 新闻\n会议强调，要把各项工作落到实处，确保取得实效。"``
    After::

        [("当前位置：首页 > 新闻", "strip.breadcrumb", "breadcrumb (当前位置)"),
         ("会议强调，要把各项工作落到实处，确保取得实效。", None, "")]
    """
    return _analyse(text, cfg, template)[0]


def strip(text: str, cfg: Frozen, template: Mapping[int, int] = {}) -> tuple[str, Counter[str]]:
    r"""Remove boilerplate lines; count removed lines per rule.

    ``template`` maps a line key (see :func:`line_keys`) to the number of documents of this
    source group that contain it; the runner passes only keys that reached
    ``template_min_docs``. Tag rewrites count as ``strip.html``; dropped blank lines are not
    counted, unless they are the only change (then ``strip.blank``: 1).

    Before: ``"政务邮箱 | 邮件订阅 | 无障碍 | English\n会议强调，要把各项工作落到实处，确保取得实效。\n京ICP备11041399号"``
    After: ``("会议强调，要把各项工作落到实处，确保取得实效。", Counter({"strip.nav": 1, "strip.licence": 1}))``
    """
    entries, trailing_nl = _analyse(text, cfg, template)
    html_names = {r.name for r in _compiled(cfg).html}
    kept = [line for line, rule, _ in entries if rule is None]
    changes: Counter[str] = Counter(
        rule
        for line, rule, _ in entries
        if rule is not None and rule != "strip.blank" and (line.strip() or rule in html_names)
    )
    out = "\n".join(kept)
    if trailing_nl and kept:
        out += "\n"
    if not changes and out != text:
        # Only blank lines moved: report it, so that a changed text is always attributable.
        changes["strip.blank"] = 1
    return out, changes


def line_keys(text: str, cfg: Frozen) -> set[int]:
    r"""Hashes of the lines that may be template lines (short, not body paragraphs).

    The runner counts, per source group, in how many documents each key occurs, and passes
    the keys seen in at least ``template_min_docs`` documents to :func:`strip`.

    Before: ``"网站首页 | 关于我们\n会议强调，要把各项工作落到实处，确保取得实效，推动高质量发展。"``
    After: one key, the nav line's (xxh64 of the line without spaces, casefolded); the
    paragraph is never a template line.
    """
    rules = _compiled(cfg)
    _, work, _ = _prepare(text, rules)
    keys = {_template_key(s, rules) for s in map(str.strip, work) if s}
    return {key for key in keys if key is not None}
