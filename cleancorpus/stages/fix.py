"""The ``fix`` stage: mojibake and Unicode repair that never changes correct Chinese.

Steps, in order (each counted under its own name in the returned Counter):

1. newlines (CRLF, CR, U+2028/2029, VT, FF to LF), zero-width and control characters;
2. HTML entities (``&nbsp;``, ``&#12288;``, ``&amp;``...), runs of JSON escapes
   (``\\u56fd\\u52a1`` -> ``国务``);
   then stretches of UTF-8 shown in one of ftfy's single-byte encodings (MacRoman ``ÂõΩ``,
   cp1250 ``ĺ›˝``, cp437 ``σ¢╜``...) read back, when the reading has CJK in it;
3. GBK/GB18030 or Big5 bytes shown as Latin-1/cp1252 (``»áÒé`` -> ``会议``), per run;
4. ftfy, configured so full-width punctuation and curly quotes stay (UTF-8 as Latin-1/cp1252,
   ``ä¼šè®®`` -> ``会议``, and its other fixers), only on lines that look damaged;
5. UTF-8 bytes shown as GBK/GB18030 or Big5 (``浼氳\\ue185鏄庣‘`` -> ``会议明确``), per run;
6. NFC; unrepairable damage (``锟斤拷`` runs, U+FFFD) counted, and removed or kept;
7. full-width ASCII letters and digits to ASCII; Unicode spaces per the space policy;
8. pinyin readings left by Traditional-conversion sites (``會(huì)議`` -> ``會議``);
9. line hygiene: trailing (and, per config, leading) whitespace, runs of blank lines.

A repair of steps 3 and 5 is accepted only when the repaired run is measurably more
plausible Chinese than the damaged one (``_cjk.Scorer``), never otherwise. Within it, a
character is written only when it is certain: a byte the damage lost (U+FFFD: one byte in
Python's decoders, a pair in browsers'; Windows cp936's € for 0x80; a pair Big5 has twice) is a
slot of every byte string it may have been, and a character that differs between them
stays U+FFFD (counted in ``fix.lost_bytes``). Slow steps sit
behind a cheap detector (a compiled regex), so clean documents pay a few scans.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, product

import ftfy
import ftfy.bad_codecs  # registers the sloppy-windows-1252 codec that ftfy uses
from ftfy.chardata import CHARMAP_ENCODINGS, LIGATURES

from cleancorpus.config import ConfigError, Frozen
from cleancorpus.stages import _cjk

# cp1252's printable characters above U+00FF and the byte each stands for. Mojibake
# made with cp1252 has them where Latin-1 has C1 controls; undefined cp1252 bytes show up as
# the C1 control itself (what browsers and ftfy's sloppy-windows-1252 do).
_CP1252 = {}
for _b in range(0x80, 0xA0):
    try:
        _CP1252[bytes([_b]).decode("cp1252")] = _b
    except UnicodeDecodeError:
        pass
_CP1252_CHARS = "".join(_CP1252)
_TO_LATIN1 = str.maketrans({ch: chr(b) for ch, b in _CP1252.items()})

# cp1252 has no character for these bytes: decoded with errors="replace" each becomes U+FFFD.
_CP1252_LOST = tuple(b for b in range(0x80, 0xA0) if b not in _CP1252.values())
# U+FFFD counts as a high character of a run: a byte cp1252 has no character for (see above).
_HIGH = "\x80-\xff" + _CP1252_CHARS + "\ufffd"
_ASCII_RUN = re.compile("[\t\x20-\x7e]*")
# Words of ASCII letters and Latin-1/cp1252 characters.
_WORDISH = re.compile(f"[A-Za-z{_HIGH}]+")
_LATIN1_CHAR = re.compile("[\x80-\x9f\xa1-\xff]")
_HIGH_CHAR = re.compile(f"[{_HIGH}]")
_LATIN_GATE = re.compile(f"[{_HIGH}][\t\x20-\x7e{_HIGH}]*[{_HIGH}]")


def _ftfy_gate() -> tuple[re.Pattern[str], str]:
    """Lines ftfy may change. ftfy costs ~100x a regex scan, so it only sees these.

    UTF-8 shown as Latin-1/cp1252 always has a lead byte (U+00C2-U+00F4) before a
    continuation byte (U+0080-U+00BF or its cp1252 character); C1 controls are cp1252 bytes
    shown as Latin-1. UTF-8 shown as ftfy's other single-byte codecs (Windows-1250/1251/1253/
    1254/1257, ISO-8859-2, MacRoman, cp437) has characters of those codecs that are neither
    Latin-1 nor punctuation Chinese text uses (“”…—·×°■→ and the like). Terminal escapes and
    ligatures (ﬁ, ŉ, ǆ) are ftfy's other configured fixers. Also returns the characters (for
    a regex class) a match can start with.
    """
    chars: set[str] = set()
    for codec in CHARMAP_ENCODINGS:
        chars.update(bytes(range(0x80, 0x100)).decode(codec, errors="ignore"))
    chars -= {chr(c) for c in range(0x100)}
    chars -= set(_CP1252_CHARS)
    chars -= set(_CJK_TEXT_SYMBOLS)
    other = re.escape("".join(sorted(chars)))
    ligatures = re.escape("".join(map(chr, LIGATURES)))
    # cp437 shows the lead bytes of Latin letters (C4, C5: Č, Ł, š) as box drawing, which
    # Chinese text uses; but never right before a continuation byte shown as cp437 (î, ü, í).
    cp437_leads = re.escape(
        "".join(c for c in bytes(range(0xC2, 0xF5)).decode("cp437") if c in _CJK_TEXT_SYMBOLS)
    )
    cp437_trails = re.escape(bytes(range(0x80, 0xC0)).decode("cp437"))
    # A lead byte before a space: UTF-8 whose NBSP byte became a space (``voilÃ le``); before
    # U+FFFD: a continuation byte a decoder could not show (``SlovenÄ\ufffdina``).
    gate = re.compile(
        f"[\u00c2-\u00f4][\x80-\xbf{_CP1252_CHARS}\ufffd]|[\u00c2\u00c3\u00c5\u00ce\u00d0\u00d9\u00e0-\u00e3\u00f0] "
        f"|[{cp437_leads}][{cp437_trails}]|[\x80-\x9f\x1b{ligatures}{other}]"
    )
    return gate, f"\u00c2-\u00f4\x80-\x9f\x1b{ligatures}{other}{cp437_leads}"


# Symbols from those codecs' upper halves that correct Chinese text uses, and pinyin
# vowels with tone marks.
_CJK_TEXT_SYMBOLS = "“”‘’…–—•·×÷°±§¨«»‰′″©®™─│┌┐└┘├┤┬┴┼═║■□▲△▼▽◆◇○●◎★☆→←↑↓āǎēěīǐōǒūǔǖǘǚǜńňÁÉÍÓÚ"
_FTFY_GATE, _FTFY_FIRST = _ftfy_gate()

_UTF8_ELEMENT = (
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}|[\t\x20-\x7e]"
)
# A lost byte: a lead byte whose continuation is missing, or a sentinel for U+FFFD.
_UTF8_LOST = rb"(?:[\xc2-\xf4][\x80-\xbf]{0,2})?\xff+[\x80-\xbf]{0,2}|[\xc2-\xf4][\x80-\xbf]{0,2}"
# A span may also start or end with a character lost to a U+FFFD (the sentinel).
_UTF8_EDGE_LOST = rb"(?:[\xc2-\xf4][\x80-\xbf]{0,2})?\xff+[\x80-\xbf]{0,2}"
_UTF8_SPAN = re.compile(
    rb"(?:" + _UTF8_EDGE_LOST + rb")?(?:" + _UTF8_ELEMENT + rb")+"
    rb"(?:(?:" + _UTF8_LOST + rb")(?:" + _UTF8_ELEMENT + rb")*)*(?:" + _UTF8_EDGE_LOST + rb")?"
)
# Two whole 3-byte UTF-8 characters (CJK, CJK punctuation, full-width forms): what a run must
# have before it is worth decoding.
_UTF8_TWO_CJK = re.compile(rb"[\xe3-\xe9\xef][\x80-\xbf]{2}(?s:.)*?[\xe3-\xe9\xef][\x80-\xbf]{2}")
# The same with no byte between them that no _UTF8_SPAN match holds: one the pattern has no
# class for, or a continuation byte after a byte no span has before one. Every span worth
# decoding holds this, so a line without it needs no span search (~70 matches a line). Correct
# text re-encoded often has _UTF8_TWO_CJK somewhere; only ~1 such line in 12 has this.
_UTF8_TWO_CJK_JOINED = re.compile(
    rb"[\xe3-\xe9\xef][\x80-\xbf]{2}"
    rb"(?:[^\x00-\x08\x0a-\x1f\x7f-\xc1\xf5-\xfe]|(?<=[\x80-\xbf\xc2-\xf4\xff])[\x80-\xbf])*?"
    rb"[\xe3-\xe9\xef][\x80-\xbf]{2}"
)
# Codecs whose encoding of a string is that of its characters one by one; big5hkscs but for
# the letter and combining mark it has one pair for (_many_sources makes those slots).
_STATELESS = frozenset(["gb18030", "gbk", "cp936", "gb2312", "big5", "cp950", "big5hkscs"])
_SENTINEL_LOST = b"\xff"  # stands for U+FFFD in the re-encoded bytes
_UNENCODABLE = b"\xfe"  # never valid UTF-8: ends a span

# U+0085 (NEL) is left out: in scraped text it is byte 0x85 of mojibake, not a line break.
_NEWLINES = re.compile("\r\n?|[\u2028\u2029\x0b\x0c]")
_NEWLINE_CHARS = "\r\u2028\u2029\x0b\x0c"
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTH_CHARS}]")
# What goes of them: all but a joiner inside an emoji sequence (👨‍👩‍👧 is one emoji).
_PICTOGRAPH = "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]"
_ZERO_WIDTH_GOES = re.compile(
    f"[{_ZERO_WIDTH_CHARS.replace(chr(0x200D), '')}]"
    f"|(?<!{_PICTOGRAPH})\u200d|\u200d(?!{_PICTOGRAPH})"
)
_CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_CONTROLS = re.compile(f"[{_CONTROL_CHARS}]")
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_FULLWIDTH_ALNUM = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)
_FULLWIDTH_CHARS = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_FULLWIDTH_RE = re.compile(f"[{_FULLWIDTH_CHARS}]")
# Every character the checks of _fix_once look for but the UTF-8 gates' (_Compiled.marks adds
# them): newlines, Latin-1, the first of a _FTFY_GATE match, zero-width, controls, full-width
# letters and digits, Unicode spaces.
_MARKS = (
    f"{_NEWLINE_CHARS}\x80-\xff{_FTFY_FIRST}{_ZERO_WIDTH_CHARS}{_CONTROL_CHARS}"
    f"{_FULLWIDTH_CHARS}{_SPACES}"
)
_NEWLINE_CHAR = re.compile(f"[{_NEWLINE_CHARS}]")
_FTFY_FIRST_CHAR = re.compile(f"[{_FTFY_FIRST}]")
_UNREPAIRABLE = re.compile("(?:锟斤拷)+锟?|\ufffd+")

_HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_PINYIN_LETTERS = "a-z\u00e0-\u00fc\u0101-\u01dc\u0300-\u0308"
_PINYIN = re.compile(
    # The parenthesis first, then a look back at the character before it: far fewer
    # lookbehinds than checking every position for a preceding hanzi.
    f"[(（](?<=[{_HANZI}\ufffd][(（])([{_PINYIN_LETTERS}]{{1,8}})([1-5]?)[)）]"
)
# An opening parenthesis before a pinyin letter, where every _PINYIN match starts. A regex
# starting with one literal character finds it ~5x faster than one starting with a class.
_PINYIN_OPEN = (
    re.compile(f"\\((?=[{_PINYIN_LETTERS}])"),
    re.compile(f"（(?=[{_PINYIN_LETTERS}])"),
)
# Whitespace the line steps strip, and a line break with it on either side.
_LINE_SPACE = " \t" + _SPACES
_LINE_EDGE_SPACE = re.compile(f"\n(?:[{_LINE_SPACE}]|(?<=[{_LINE_SPACE}]\n))")
_HANZI_OR_LOST = re.compile(f"[{_HANZI}\ufffd]")
_HANZI_CHAR = re.compile(f"[{_HANZI}]")
_HANZI_IN_WORD = re.compile(f"(?<=[A-Za-z])[{_HANZI}](?=[A-Za-z])")
_TONE_MARKS = frozenset("\u0300\u0301\u0304\u030c")
# Changes after which another round may find more to do (see fix()).
# The byte-level repairs (mojibake): a round that made one leaves hygiene to the next.
_REPAIRS = (
    "fix.gbk_as_latin1",
    "fix.big5_as_latin1",
    "fix.utf8_as_gbk",
    "fix.utf8_as_big5",
    "fix.utf8_as_latin1",
    "fix.ftfy",
)
_DEEP = (
    "fix.html_entity",
    "fix.unicode_escape",
    *_REPAIRS,
    "fix.zero_width",
    "fix.control",
    "fix.nfc",
    "fix.fullwidth",
    "fix.pinyin",
    "fix.unrepairable",
)


@dataclass(frozen=True)
class _Compiled:
    cfg: Frozen
    scorer: _cjk.Scorer
    syllables: frozenset[str]
    ftfy_config: ftfy.TextFixerConfig
    utf8_gates: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]
    lost_decoders: Frozen
    latin_kinds: tuple[tuple[str, str], ...]
    spaces: re.Pattern[str] | None
    leading: re.Pattern[str]
    trailing: re.Pattern[str]
    blank_lines: re.Pattern[str]
    blank_run: str
    marks: re.Pattern[str]


def _mojibake_gate(codecs: tuple[str, ...]) -> str:
    """Characters a UTF-8 lead byte of CJK text and a continuation byte make in a 2-byte codec.

    Correct text has almost none of them (0-3 in each seed); UTF-8 shown as GBK or Big5 has
    one in every three to five characters.
    """
    chars = set()
    for lead in [*range(0xE3, 0xEA), 0xEF]:
        for trail in range(0x80, 0xC0):
            for codec in codecs:
                try:
                    chars.add(bytes([lead, trail]).decode(codec))
                except UnicodeDecodeError:
                    pass
    chars -= set("\ufffd")
    return re.escape("".join(sorted(chars)))  # for a regex class


def check_config(cfg: Frozen) -> None:
    """Raise ConfigError when the [fix] settings cannot be used (an unknown codec or kind, a
    bad policy): a usage error before anything runs, not an error on every document."""
    try:
        _compile(cfg)
    except Exception as exc:
        raise ConfigError(str(exc) if str(exc).startswith("fix.") else f"fix: {exc}") from None


@lru_cache(maxsize=8)
def _compile(cfg: Frozen) -> _Compiled:
    kinds = set(cfg["mojibake_kinds"])
    unknown = kinds - {"utf8_as_gbk", "utf8_as_big5", "gbk_as_latin1", "big5_as_latin1"}
    if unknown:
        raise ValueError(f"fix.mojibake_kinds: unknown kinds {sorted(unknown)}")
    gbk, big5 = tuple(cfg["gbk_codecs"]), tuple(cfg["big5_codecs"])
    gates = {}
    if "utf8_as_gbk" in kinds:
        gates["utf8_as_gbk"] = (gbk, _mojibake_gate(gbk))
    if "utf8_as_big5" in kinds:
        gates["utf8_as_big5"] = (big5, _mojibake_gate(big5))
    utf8_gates = [(kind, cs, re.compile(f"[{chars}]")) for kind, (cs, chars) in gates.items()]
    latin_kinds = []
    if "gbk_as_latin1" in kinds:
        latin_kinds += [("gbk_as_latin1", c) for c in gbk]
    if "big5_as_latin1" in kinds:
        latin_kinds += [("big5_as_latin1", c) for c in big5]
    space_policy = cfg["space_policy"]
    if space_policy not in ("ascii", "keep"):
        raise ValueError("fix.space_policy must be 'ascii' or 'keep'")
    if cfg["unrepairable"] not in ("keep", "remove"):
        raise ValueError("fix.unrepairable must be 'keep' or 'remove'")
    return _Compiled(
        cfg=cfg,
        scorer=_cjk.Scorer(_cjk.common_hanzi(cfg["common_table"]), cfg["score"]),
        syllables=_cjk.pinyin_syllables(cfg["pinyin_table"]),
        ftfy_config=ftfy.TextFixerConfig(**dict(cfg["ftfy"]), explain=True),
        utf8_gates=tuple(utf8_gates),
        lost_decoders=cfg["lost_byte_decoders"],
        latin_kinds=tuple(latin_kinds),
        spaces=re.compile(f"[{_SPACES}]") if space_policy == "ascii" else None,
        leading=re.compile(f"^[{_LINE_SPACE}]+", re.M),
        trailing=re.compile(f"[{_LINE_SPACE}]+$", re.M),
        blank_lines=re.compile("\n{" + str(int(cfg["max_blank_lines"]) + 2) + ",}"),
        # What blank_lines needs to match (and at least "\n\n", the check it had before).
        blank_run="\n" * max(int(cfg["max_blank_lines"]) + 2, 2),
        marks=re.compile(f"[{_MARKS}{''.join(chars for _, chars in gates.values())}]"),
    )


def fix(text: str, cfg: Frozen) -> tuple[str, Counter[str]]:
    """Repair mojibake and clean Unicode, leaving correct Chinese as it is.

    >>> fix("»áÒéÃ÷È·，“十四五”&nbsp;会(huì)议\\r\\n", load_config()["fix"])[0]
    '会议明确，“十四五” 会议\\n'
    """
    changes: Counter[str] = Counter()
    if not text:
        return text, changes
    c = _compile(cfg)
    # A repair can uncover more (a control between two mojibake bytes, a reading inside a
    # damaged run): run again until nothing changes, so that fix(fix(x)) == fix(x). Only
    # repairs and removals can uncover more (and spaces in text that looked like Latin-1
    # mojibake: NBSP is byte 0xA0); a round that changed nothing else is the last.
    rounds = int(cfg["max_rounds"])
    repaired = False  # by an earlier round: spaces it leaves may be bytes of more damage
    for i in range(rounds):
        before = _deep_count(changes, _REPAIRS)
        new, again = _fix_once(text, c, changes, last=i == rounds - 1, repaired=repaired)
        repaired = repaired or _deep_count(changes, _REPAIRS) != before
        if new == text:
            break
        text = new
        if not again:
            break
    if cfg["unrepairable"] == "keep":
        _unrepairable(text, False, changes)
    return text, changes


def _fix_once(
    text: str, c: _Compiled, changes: Counter[str], last: bool, repaired: bool
) -> tuple[str, bool]:
    """One round of every step; also whether another round could find more. A round whose
    repairs changed the text ends after them (unless it is the ``last``): the hygiene steps
    would delete bytes of a second layer of mojibake (a soft hyphen, a C1 control: GBK shown
    as Latin-1 whose UTF-8 was shown as Latin-1 again) before the next round repairs it."""
    cfg = c.cfg
    deep_before = _deep_count(changes)
    repairs_before = _deep_count(changes, _REPAIRS)
    latin1_like = repaired
    # One scan finds every character the checks below look for (c.marks); most pages have a
    # few or none, and a check searches those few rather than scanning the text itself. The
    # text is scanned again when a step has changed it.
    scanned: str | None = None
    marks = ""  # the distinct characters of c.marks in ``scanned``

    def has(chars: re.Pattern[str]) -> bool:
        """Whether ``text`` has one of ``chars`` (a class within c.marks)."""
        nonlocal scanned, marks
        if scanned is not text:
            scanned, marks = text, "".join(set(c.marks.findall(text)))
        return bool(marks) and chars.search(marks) is not None

    if has(_NEWLINE_CHAR):
        text = _sub_count(_NEWLINES, "\n", text, changes, "fix.newline")
    if cfg["html_entities"] and "&" in text:
        text = _unescape(text, changes)
    if cfg["unicode_escapes"] and "\\u" in text:
        text = _unicode_escapes(text, changes)
    if cfg["ftfy_enabled"] and "ï»¿" in text:
        # A UTF-8 byte-order mark shown as Latin-1/cp1252 (a file with a BOM read wrongly, or
        # pasted together): never text, and step 3 would read it as GBK (锘縷).
        changes["fix.utf8_as_latin1"] += text.count("ï»¿")
        text = text.replace("ï»¿", "\ufeff")
    if (
        cfg["ftfy_enabled"]
        and (has(_LATIN1_CHAR) or has(_FTFY_FIRST_CHAR))
        and (
            _UTF8_THREE_BYTES.search(text)
            or (("Â" in text or "Ã" in text) and _UTF8_LATIN1_TWICE.search(text))
        )
    ):
        text = _exact_utf8_runs(text, c, changes)
    if c.latin_kinds and has(_LATIN1_CHAR) and _LATIN_GATE.search(text):
        latin1_like = True
        before = changes.get("fix.gbk_as_latin1", 0) + changes.get("fix.big5_as_latin1", 0)
        text = _repair_latin_runs(text, c, changes)
        after = changes.get("fix.gbk_as_latin1", 0) + changes.get("fix.big5_as_latin1", 0)
        if after > before and _LATIN_GATE.search(text):
            # A page with GBK/Big5 shown as Latin-1 in it: its short runs that are also valid
            # UTF-8 (Í¨Öª, 通知 or two combining marks) are most likely the same damage.
            text = _repair_latin_runs(text, c, changes, in_chinese=True)
    if cfg["ftfy_enabled"] and has(_FTFY_FIRST_CHAR) and _FTFY_GATE.search(text):
        latin1_like = True
        text = _ftfy(text, c, changes)
    for kind, codecs, gate in c.utf8_gates:
        if has(gate):
            text = _repair_utf8_runs(text, kind, codecs, gate, c, changes)
    if not last and _deep_count(changes, _REPAIRS) != repairs_before:
        return text, True
    # After the repairs: the soft hyphen U+00AD is also byte 0xAD of GBK/Big5 shown as Latin-1.
    if cfg["remove_zero_width"] and has(_ZERO_WIDTH):
        text = _sub_count(_ZERO_WIDTH_GOES, "", text, changes, "fix.zero_width")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
        changes["fix.nfc"] += 1
    if cfg["remove_controls"] and has(_CONTROLS):
        text = _sub_count(_CONTROLS, "", text, changes, "fix.control")
    if cfg["unrepairable"] == "remove":
        text = _unrepairable(text, True, changes)
    if cfg["fullwidth_alnum"] and has(_FULLWIDTH_RE):
        n = len(_FULLWIDTH_RE.findall(text))
        text = text.translate(_FULLWIDTH_ALNUM)
        changes["fix.fullwidth"] += n
    spaces_before = changes["fix.space"]
    if c.spaces is not None and has(c.spaces):
        text = _sub_count(c.spaces, " ", text, changes, "fix.space")
    if cfg["pinyin_artifacts"] and (_PINYIN_OPEN[0].search(text) or _PINYIN_OPEN[1].search(text)):
        text = _remove_pinyin(text, c, changes)
    text = _lines(text, c, changes)
    deep = _deep_count(changes) != deep_before
    return text, deep or (latin1_like and changes["fix.space"] != spaces_before)


def _deep_count(changes: Counter[str], keys: tuple[str, ...] = _DEEP) -> int:
    # .get: a missing key of a Counter goes through a Python-level __missing__.
    return sum(changes.get(k, 0) for k in keys) if changes else 0


def _sub_count(
    pattern: re.Pattern[str], repl: str, text: str, changes: Counter[str], name: str
) -> str:
    text, n = pattern.subn(repl, text)
    if n:
        changes[name] += n
    return text


def _unescape(text: str, changes: Counter[str]) -> str:
    # Scraped text is often escaped twice (``&amp;nbsp;``); a few rounds reach a fixed point.
    for _ in range(8):
        n = 0

        def one(m: re.Match[str]) -> str:
            nonlocal n
            out = html.unescape(m.group())
            if out != m.group():
                n += 1
            return out

        text = _ENTITY.sub(one, text)
        if not n:
            break
        changes["fix.html_entity"] += n
    return text


# Two or more JSON/JavaScript escapes in a row: text from a script or an API response.
_UNICODE_ESCAPES = re.compile(r"(?:\\u[0-9a-fA-F]{4}){2,}")


def _unicode_escapes(text: str, changes: Counter[str]) -> str:
    """``\\u56fd\\u52a1\\u9662`` -> ``国务院`` (surrogate pairs joined), when every escape
    stands for a printable character beyond ASCII: ``\\u0041`` runs and lone surrogates stay."""

    def one(m: re.Match[str]) -> str:
        run = m.group()
        units = bytes.fromhex("".join(run[i + 2 : i + 6] for i in range(0, len(run), 6)))
        try:
            out = units.decode("utf-16-be")
        except UnicodeDecodeError:
            return run
        if not all(ch >= "\xa0" and (ch.isprintable() or ch.isspace()) for ch in out):
            return run
        changes["fix.unicode_escape"] += 1
        return out

    return _UNICODE_ESCAPES.sub(one, text)


# --- GBK/Big5 bytes shown as Latin-1/cp1252 ------------------------------------------------


def _repair_latin_runs(
    text: str, c: _Compiled, changes: Counter[str], in_chinese: bool = False
) -> str:
    """GBK/Big5 shown as Latin-1/cp1252, run by run; ``in_chinese``: every run is taken to
    be in Chinese text (see _fix_latin_run's ``chinese``), not only those with hanzi beside
    them on their line."""
    out: list[str] = []
    last = 0
    # From the first to the last Latin-1/cp1252 character of a stretch without hanzi, plus
    # the ASCII after it (trail bytes: Big5 一 is ``¤@``) and the ASCII letters before it
    # (the start of a Latin word).
    for m in _LATIN_GATE.finditer(text):
        # Curly quotes and dashes side by side (”“, ——) are Chinese punctuation; a GBK or Big5
        # character shown as Latin-1/cp1252 has a byte in 0x80-0xFF nearly always (NBSP
        # pairs, &nbsp;&nbsp;, are spacing).
        if not _LATIN1_CHAR.search(m.group()):
            continue
        start = m.start()
        while start > last and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        end = _ASCII_RUN.match(text, m.end()).end()
        # NBSP at the edges is spacing around the damage, not part of it.
        while start < end and text[start] == "\xa0":
            start += 1
        while end > start and text[end - 1] == "\xa0":
            end -= 1
        run = text[start:end]
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        chinese = in_chinese or bool(
            _HANZI_CHAR.search(text, line_start, start) or _HANZI_CHAR.search(text, end, line_end)
        )
        fixed, kind = _fix_latin_run(run, c, chinese)
        if fixed is None and kind in ("undecodable", "rejected"):
            # A legitimate Latin word beside the damage spoils the whole run's decoding.
            pieces = re.split("([ \t]+)", run)
            if len(pieces) == 1:
                continue
            repaired = []
            for piece in pieces:
                pf, pk = (None, "")
                if len(_HIGH_CHAR.findall(piece)) >= 2:
                    pf, pk = _fix_latin_run(piece, c, chinese, piece=True)
                if pf is not None:
                    changes["fix." + pk] += 1
                repaired.append(piece if pf is None else pf)
            fixed = "".join(repaired)
            if fixed == run:
                continue
        elif fixed is None:
            continue
        else:
            changes["fix." + kind] += 1
        out.append(text[last:start])
        out.append(fixed)
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _latin_words(run: str) -> bool:
    """Whether every non-ASCII character of ``run`` sits in a Latin word (Ærøskøbing, zhèn).

    GBK and Big5 shown as Latin-1 put non-ASCII characters side by side (``»áÒé``) or next
    to symbols (``¤@``); a Latin word puts each one beside an ASCII letter.
    """
    last = len(run) - 1
    for i, ch in enumerate(run):
        if ch <= "\x7f":
            continue
        if not ch.isalpha():
            return False
        before = i > 0 and run[i - 1].isascii() and run[i - 1].isalpha()
        after = i < last and run[i + 1].isascii() and run[i + 1].isalpha()
        if not (before or after):
            return False
    return True


def _one_script(text: str) -> bool:
    """Whether the text's letters beyond Latin are at least two, all of one script other than
    Han (by Unicode name: THAI, GREEK, CYRILLIC...), with no Latin-1 letter left over."""
    scripts = set()
    n = 0
    for ch in text:
        if ch < "\u0250":
            if "\u00c0" <= ch <= "\u00ff" and ch.isalpha():
                return False  # mojibake left: not a clean reading
            continue
        if ch.isalpha():
            scripts.add(unicodedata.name(ch, " ").split()[0])
            n += 1
    return n >= 2 and len(scripts) == 1 and not scripts & {"CJK", "LATIN"}


def _glued_to_latin(text: str) -> bool:
    """Whether most of the text's hanzi have an ASCII letter right before or after them."""
    hanzi = glued = 0
    for m in _HANZI_CHAR.finditer(text):
        hanzi += 1
        before = text[m.start() - 1 : m.start()]
        after = text[m.end() : m.end() + 1]
        glued += (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())
    return 2 * glued > hanzi


def _fix_latin_run(
    run: str, c: _Compiled, chinese: bool, piece: bool = False
) -> tuple[str | None, str]:
    """The GBK/Big5 reading of a run of Latin-1/cp1252 characters, if it is the right one.

    ``chinese`` says whether the run's line has hanzi elsewhere. UTF-8 shown as Latin-1 is
    ftfy's: a run that is valid UTF-8 in a line without hanzi is left to it (``nÃ©``), and
    where ftfy reads the run as UTF-8 mojibake too, the GBK/Big5 reading must score at least
    as well, and in a line without hanzi have at least ``latin_context_min_hanzi`` hanzi, few
    of them inside Latin words. So does a ``piece`` (a space-separated part of a run that did
    not decode whole) in a line without hanzi.
    Returns (None, why) when the run stays: "latin", "utf8", "undecodable", "rejected".
    """
    if _latin_words(run):
        return None, "latin"
    # GBK/Big5 shown as Latin-1 is dense: in its "words" (letters and Latin-1/cp1252
    # characters) the ASCII letters are a few trail bytes; Latin text with a little mojibake
    # in it (frÃ¨res) is mostly ASCII letters.
    high = letters = 0
    for word in _WORDISH.findall(run):
        n = len(_HIGH_CHAR.findall(word))
        if n:
            high += n
            letters += len(word) - n
    if high < c.cfg["min_high_density"] * (high + letters):
        return None, "latin"
    lossy = "\ufffd" in run
    # For the UTF-8 test any of _CP1252_LOST will do: all are continuation bytes.
    raw = run.translate(_TO_LATIN1).replace("\ufffd", "\x81").encode("latin-1")
    scorer = c.scorer
    best: tuple[float, str, str] | None = None
    candidates = list(c.latin_kinds)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not chinese:
            return None, "utf8"
        candidates.insert(0, ("utf8_as_latin1", "utf-8"))
    for kind, codec in candidates:
        if lossy:
            if codec == "utf-8":
                continue
            lossy_cand = _decode_latin_slots(run, codec)
            if lossy_cand is None:
                continue
            cand = lossy_cand
        else:
            try:
                cand = raw.decode(codec)
            except UnicodeDecodeError:
                continue
        score, _ = scorer.score(cand)
        if best is None or score > best[0]:
            best = (score, kind, cand)
    if best is None:
        return None, "undecodable"
    score, kind, cand = best
    if kind == "utf8_as_latin1":
        return None, "utf8"
    if not _acceptable(run, cand, score, c):
        return None, "rejected"
    if piece and not chinese and len(_HANZI_CHAR.findall(cand)) < c.cfg["latin_context_min_hanzi"]:
        return None, "rejected"
    if c.cfg["ftfy_enabled"] and _FTFY_GATE.search(run):
        ftfy_out = ftfy.fix_encoding(run)
        if ftfy_out != run:
            if _one_script(ftfy_out):
                # UTF-8 that reads as Thai, Greek, Cyrillic, Hebrew... all through is no
                # accident; a GBK/Big5 reading of Latin-1 characters nearly always decodes.
                return None, "utf8"
            if _glued_to_latin(cand):
                # ftfy reads Latin words (Hırsızı Büyü); the other reading leaves most of its
                # hanzi stuck to Latin letters (H谋rs谋z谋 B眉y眉), which Chinese does not.
                return None, "utf8"
            if not chinese:
                # A wrong GBK reading of Latin text leaves hanzi inside Latin words (fr猫res).
                hanzi = len(_HANZI_CHAR.findall(cand))
                embedded = len(_HANZI_IN_WORD.findall(cand))
                if (
                    hanzi < c.cfg["latin_context_min_hanzi"]
                    or embedded > c.cfg["latin_context_max_embedded"] * hanzi
                ):
                    return None, "utf8"
            if scorer.score(ftfy_out)[0] >= score:
                return None, "utf8"
    return cand, kind


def _decode_latin_slots(run: str, codec: str) -> str | None:
    """Decode a Latin-1/cp1252 run holding U+FFFD (a byte of _CP1252_LOST) with ``codec``.

    A double-byte codec is not self-synchronising, so the run is read left to right: a
    character with a lost byte is emitted only if every byte it may have been gives the same
    one, else U+FFFD; if they would not all take the same number of bytes (the reading after
    it would drift), the run is not decoded (None).
    """
    tokens: list[tuple[int, ...]] = [
        _CP1252_LOST if ch == "\ufffd" else (ord(ch.translate(_TO_LATIN1)),) for ch in run
    ]
    n = len(tokens)
    out: list[str] = []
    i = 0
    while i < n:
        firsts = tokens[i]
        if len(firsts) == 1 and firsts[0] < 0x80:
            out.append(chr(firsts[0]))
            i += 1
            continue
        options: set[tuple[int, str]] = set()
        for x in firsts:
            for size in (1, 2, 4):
                if i + size > n or (size == 4 and len(firsts) > 1):
                    continue
                rest = tokens[i + 1 : i + size]
                # Four bytes are one GB18030 character (lead, digit, lead, digit), not two.
                if size == 4 and (any(len(t) > 1 for t in rest) or not 0x30 <= rest[0][0] <= 0x39):
                    continue
                for tail in product(*rest):
                    try:
                        options.add((size, bytes((x, *tail)).decode(codec)))
                    except UnicodeDecodeError:
                        pass
        sizes = {size for size, _ in options}
        if len(sizes) != 1:
            return None
        readings = {ch for _, ch in options}
        out.append(readings.pop() if len(readings) == 1 else "\ufffd")
        i += sizes.pop()
    return "".join(out)


def _acceptable(
    orig: str, cand: str, cand_score: float, c: _Compiled, margin_key: str = "score_margin"
) -> bool:
    cfg = c.cfg
    # U+FFFD in a repaired run stands for a character (nearly always a hanzi) lost to the damage.
    if len(_HANZI_OR_LOST.findall(cand)) < cfg["min_repair_hanzi"]:
        return False
    # A repair may lose what the damage already lost, and little more.
    lost = cand.count("\ufffd") - orig.count("\ufffd")
    if lost > 0 and lost * cfg["max_lost_ratio"] > len(cand):
        return False
    orig_score, _ = c.scorer.score(orig, latin_words=False)
    return cand_score >= cfg["min_score"] and cand_score - orig_score >= cfg[margin_key]


# --- ftfy ---------------------------------------------------------------------------------


# CJK characters and punctuation, full-width forms: what a stretch of mojibake never holds.
_WIDE_CHAR = re.compile("[\u3000-\u9fff\uff00-\uffef]")
_NARROW_RUN = re.compile("[^\u3000-\u9fff\uff00-\uffef\n]+")


def _utf8_three_bytes() -> re.Pattern[str]:
    """A lead byte of a three-byte UTF-8 character (all of CJK) and two continuation bytes,
    as any of ftfy's single-byte encodings shows them: a quick test for _exact_utf8_runs."""

    def chars(lo: int, hi: int) -> str:
        shown = {
            bytes([b]).decode(enc, "ignore") for enc in CHARMAP_ENCODINGS for b in range(lo, hi)
        }
        return "".join(re.escape(ch) for ch in sorted(shown) if ch)

    return re.compile(f"[{chars(0xE0, 0xF0)}][{chars(0x80, 0xC0)}]{{2}}")


# Two Latin-1 characters in UTF-8 shown as Latin-1/cp1252 (Â», Ã¡): a second layer of mojibake.
_UTF8_LATIN1_TWICE = re.compile("(?:[ÂÃ][\x80-\xbf\u0152-\u2122]){2}")


_UTF8_THREE_BYTES = _utf8_three_bytes()


def _exact_utf8_runs(text: str, c: _Compiled, changes: Counter[str]) -> str:
    """Stretches between CJK characters that are wholly UTF-8 bytes shown in one of ftfy's
    single-byte encodings (Latin-1, cp1250-1257, ISO-8859-2, MacRoman, cp437), read back when
    the reading has CJK in it: a reading that is exact (UTF-8 checks itself), so it goes
    before the GBK/Big5 guesses of step 3, which would take MacRoman's ``ÂõΩ`` or cp1250's
    ``ĺ›˝`` apart (ftfy reads whole lines of them right, and none beside correct hanzi)."""

    def exact(m: re.Match[str]) -> str:
        run = m.group()
        if run.isascii():
            return run
        best, most = run, 1
        for enc in CHARMAP_ENCODINGS:
            try:
                fixed = run.encode(enc).decode("utf-8")
            except UnicodeError:
                continue
            # Two encodings may both give valid UTF-8 (cp1250 and cp1257 put ę at different
            # bytes: 時 or Ꙃ): the reading with the most CJK characters wins, the first on a
            # tie. At least two: three accented letters and quotes may spell one by chance.
            score = len(_WIDE_CHAR.findall(fixed)) or _inner_cjk(
                fixed, c.scorer, c.cfg["min_score"]
            )
            if score > most:
                best, most = fixed, score
        if best is not run:
            changes["fix.utf8_as_latin1"] += 1
        return best

    return _NARROW_RUN.sub(exact, text)


def _inner_cjk(reading: str, scorer: _cjk.Scorer, min_score: float) -> int:
    """CJK characters in a reading taken as GBK or Big5 shown as Latin-1 or cp1252 (two layers
    of mojibake: GBK shown as Latin-1, whose UTF-8 was shown as Latin-1 again); 0 if it is
    not such a reading. Step 3 then repairs the inner layer."""
    if reading.isascii():
        return 0
    for shown in ("latin-1", "sloppy-windows-1252"):
        try:
            raw = reading.encode(shown)
        except UnicodeEncodeError:
            continue
        for codec in ("gb18030", "big5hkscs"):
            try:
                inner = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            # Chinese, not the odd hanzi that any bytes make (French through MacRoman three
            # times: t‚àö¬©l‚àö¬©charger).
            if scorer.score(inner)[0] >= min_score:
                return len(_WIDE_CHAR.findall(inner))
    return 0


def _ftfy(text: str, c: _Compiled, changes: Counter[str]) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not _FTFY_GATE.search(line):
            continue
        fixed, steps = ftfy.fix_and_explain(line, c.ftfy_config)
        if fixed == line:
            continue
        lines[i] = fixed
        actions = {action for action, _ in steps or ()}
        names = {name for _, name in steps or ()}
        if actions & {"encode", "decode"} or "decode_inconsistent_utf8" in names:
            changes["fix.utf8_as_latin1"] += 1
        else:
            changes["fix.ftfy"] += 1
    return "\n".join(lines)


# --- UTF-8 bytes shown as GBK/Big5 ---------------------------------------------------------


# Bytes a lost character (U+FFFD) or a Windows cp936 euro sign may stand for are "slots": a
# tuple of the byte strings they may have been. Everything else is known bytes.
_Slot = tuple[bytes, ...]
_Token = int | _Slot


def _utf8_class(b: int) -> int:
    """UTF-8's byte classes: two bytes of one class are interchangeable for validity."""
    for k, top in enumerate(
        (0x7F, 0x8F, 0x9F, 0xBF, 0xC1, 0xDF, 0xE0, 0xEC, 0xED, 0xEF, 0xF0, 0xF3, 0xF4)
    ):
        if b <= top:
            return k
    return 13


def _representatives(alternatives: list[bytes]) -> list[bytes]:
    """At most two alternatives per sequence of UTF-8 byte classes.

    Two alternatives of one class sequence are either both valid UTF-8 in a given context or
    both invalid, and never decode alike: two of them are enough to show an ambiguity.
    """
    seen: dict[tuple[int, ...], int] = {}
    out = []
    for alt in alternatives:
        key = tuple(map(_utf8_class, alt))
        if seen.get(key, 0) < 2:
            seen[key] = seen.get(key, 0) + 1
            out.append(alt)
    return out


@lru_cache(maxsize=16)
def _lost_pairs(decoders: tuple[str, ...]) -> tuple[bytes, ...]:
    """Byte pairs one U+FFFD may stand for: a lead byte and a non-ASCII byte without a character.

    Python's CJK codecs replace one byte at a time, but the WHATWG decoders (browsers) and
    Windows' replace a lead byte and a non-ASCII trail byte they have no character for with
    a single U+FFFD.
    """
    pairs = []
    for lead in range(0x81, 0xFF):
        for trail in range(0x80, 0xFF):
            pair = bytes([lead, trail])
            for codec in decoders:
                try:
                    pair.decode(codec)
                except UnicodeDecodeError:
                    pairs.append(pair)
                    break
    return tuple(_representatives(pairs))


def _lost_slot(decoders: tuple[str, ...], following: str) -> _Slot:
    """What one U+FFFD before ``following`` may stand for, under each of ``decoders``.

    A single byte: one the decoder replaces when ``following``'s bytes come after it (0x80,
    0xFF, a lead byte with no character for it and the next byte: GBK's user-defined area A6
    81...); or a pair, per _lost_pairs. Before another U+FFFD or at the end, any byte.
    """
    heads = []
    for codec in decoders:
        nexts = []
        try:
            nexts.append(following.encode(codec) if following != "\ufffd" else b"")
        except UnicodeEncodeError:
            pass
        if "\u20ac" in following:  # Windows cp936's euro sign
            try:
                euro = following.replace("\u20ac", "\x00").encode(codec)
                nexts.append(euro.replace(b"\x00", b"\x80"))
            except UnicodeEncodeError:
                pass
        for nxt in nexts:
            # The byte after decides; GB18030 reads a lead byte and a digit as half of a
            # four-byte character and needs two more.
            heads.append((codec, nxt[:3] if nxt[:1].isdigit() else nxt[:1]))
    return _lost_slot_heads(decoders, tuple(heads))


@lru_cache(maxsize=4096)
def _lost_slot_heads(decoders: tuple[str, ...], heads: tuple[tuple[str, bytes], ...]) -> _Slot:
    singles: set[int] = set()
    for codec, head in heads:
        singles |= _lost_singles(codec, head)
    alternatives = _representatives([bytes([b]) for b in sorted(singles)])
    return tuple(alternatives) + _lost_pairs(decoders)


@lru_cache(maxsize=4096)
def _lost_singles(codec: str, head: bytes) -> frozenset[int]:
    tail = head.decode(codec, errors="replace")
    return frozenset(
        b
        for b in range(0x80, 0x100)
        if (bytes([b]) + head).decode(codec, errors="replace") == "\ufffd" + tail
    )


@dataclass(frozen=True)
class _Sources:
    gate: re.Pattern[str]
    sources: dict[str, _Slot]


@lru_cache(maxsize=8)
def _many_sources(codecs: tuple[str, ...]) -> _Sources:
    """Characters that more than one byte pair decodes to, in one of ``codecs`` or across them.

    Big5 has duplicates (兀 at A461 and C94A; ／ at A1FE and A241 in cp950) and big5hkscs
    reads four pairs as a letter and a combining mark (ê̌ for 88 A5): re-encoding them gives
    one of the pairs, maybe not the one the text had, so each is a slot of all of them.
    """
    found: dict[str, set[bytes]] = {}
    for codec in dict.fromkeys(codecs):
        for lead in range(0x81, 0xFF):
            for trail in range(0x40, 0xFF):
                pair = bytes([lead, trail])
                try:
                    text = pair.decode(codec)
                except UnicodeDecodeError:
                    continue
                found.setdefault(text, set()).add(pair)
    sources = {}
    for text, pairs in found.items():
        if len(pairs) > 1 or len(text) > 1:
            sources[text] = tuple(sorted(pairs))
    if not sources:
        return _Sources(re.compile("(?!)"), {})
    alternation = "|".join(map(re.escape, sorted(sources, key=len, reverse=True)))
    return _Sources(re.compile(alternation), sources)


@lru_cache(maxsize=4)
def _char_encoder(codecs: tuple[str, ...]) -> dict[str, bytes]:
    return {}


def _encode_char(ch: str, codecs: tuple[str, ...], cache: dict[str, bytes]) -> bytes:
    b = cache.get(ch)
    if b is None:
        b = _UNENCODABLE
        for codec in codecs:
            try:
                b = ch.encode(codec)
                break
            except UnicodeEncodeError:
                continue
        if len(cache) < 200_000:
            cache[ch] = b
    return b


def _line_decoders(line: str, decoders: tuple[str, ...]) -> tuple[str, ...]:
    """The decoders that could have made ``line``: those with a character for each of its own.

    A private-use character (GB18030's reading of GBK's user-defined area) rules out the
    gbk and gb2312 decoders, whose U+FFFD hides more; when none fits, all are kept.
    """
    rest = line.replace("\ufffd", "").replace("\u20ac", "")
    fits = []
    for codec in decoders:
        try:
            rest.encode(codec)
        except UnicodeEncodeError:
            continue
        fits.append(codec)
    return tuple(fits) or decoders


def _repair_utf8_runs(
    text: str,
    kind: str,
    codecs: tuple[str, ...],
    gate: re.Pattern[str],
    c: _Compiled,
    changes: Counter[str],
) -> str:
    cache = _char_encoder(codecs)
    decoders = c.lost_decoders[kind]
    # Windows' cp936 (and the WHATWG gbk decoder) show byte 0x80 as the euro sign; GB18030
    # has it at A2 E3: a slot holding both.
    gbk_family = kind == "utf8_as_gbk"
    lines = text.split("\n")
    changed = False
    multi = _many_sources(codecs + tuple(decoders))
    for i, line in enumerate(lines):
        if not gate.search(line):
            continue
        plain = None
        if codecs[0] in _STATELESS and not (
            "\ufffd" in line or (gbk_family and "\u20ac" in line) or multi.gate.search(line)
        ):
            try:
                plain = line.encode(codecs[0])
            except UnicodeEncodeError:
                pass
        if plain is not None:
            # No slots, and the first codec has every character: this is the ``raw`` built
            # below, at the cost of one encode rather than a call per character.
            if not _UTF8_TWO_CJK_JOINED.search(plain):
                continue
        elif not _may_hold_utf8(line, codecs):
            continue
        pieces = [_encode_char(ch, codecs, cache) for ch in line]
        slots: dict[int, _Slot] = {}
        if "\ufffd" in line or (gbk_family and "\u20ac" in line):
            euro = (b"\x80", _encode_char("\u20ac", codecs, cache))
            line_decoders = _line_decoders(line, decoders)
            for k, ch in enumerate(line):
                if ch == "\ufffd":
                    # A few characters: GB18030 reads a lead byte and a digit as half of a
                    # four-byte character and needs the next two bytes to reject it.
                    nxt = (line[k + 1 : k + 4] + "\n")[:3].split("\ufffd")[0]
                    slots[k] = _lost_slot(line_decoders, nxt or "\ufffd")
                    pieces[k] = _SENTINEL_LOST
                elif ch == "\u20ac" and gbk_family:
                    slots[k] = euro
                    pieces[k] = b"\x80"
        if multi.gate.search(line):
            for m in multi.gate.finditer(line):
                k = m.start()
                slots[k] = multi.sources[m.group()]
                pieces[k] = slots[k][0]
                if len(m.group()) == 2:
                    pieces[k + 1] = b""
        raw = b"".join(pieces)
        if not _UTF8_TWO_CJK_JOINED.search(raw):
            continue
        starts = [0, *accumulate(map(len, pieces))]
        index = {off: k for k, off in enumerate(starts)}
        out: list[str] = []
        last = 0
        for m in _UTF8_SPAN.finditer(raw):
            if not _UTF8_TWO_CJK.search(m.group()):
                continue
            s, e = m.span()
            while s not in index:
                s += 1
            while e not in index:
                e -= 1
            a, b = index[s], index[e]
            if b - a < 2:
                continue
            a, b, cand, lost = _tightest(line, pieces, slots, a, b, c)
            orig = line[a:b]
            score, _ = c.scorer.score(cand)
            if not _acceptable(orig, cand, score, c, "utf8_score_margin"):
                continue
            out.append(line[last:a])
            out.append(cand)
            last = b
            changes["fix." + kind] += 1
            if lost:
                changes["fix.lost_bytes"] += lost
        if out:
            out.append(line[last:])
            lines[i] = "".join(out)
            changed = True
    return "\n".join(lines) if changed else text


def _tightest(
    line: str, pieces: list[bytes], slots: dict[int, _Slot], a: int, b: int, c: _Compiled
) -> tuple[int, int, str, int]:
    """The span line[a:b] (valid UTF-8 in the damaged run's bytes), each end moved in by up
    to three characters where the stretch as a whole then reads better, and its reading.

    The GBK bytes of correct hanzi next to the damage can complete its last UTF-8 character
    (…涓庝俊 + 息安全: 与信Ϣ安全); moved in, the damage is read and the hanzi stay. Only a
    reading with a character Chinese text does not hold (Ϣ) is looked at again; moving in may
    not lose more bytes (U+FFFD), and on a tie the wider span is kept."""
    limit = int(c.cfg["max_slot_combinations"])
    cand, lost = _decode_slots(pieces, slots, a, b, limit)
    best = (c.scorer.score(cand)[0], a, b, cand, lost)
    if not _cjk.SUSPICIOUS.search(cand):
        return best[1:]  # a clean reading (nearly always): the span is right
    for da in range(4):
        for db in range(4):
            if (da or db) and b - db - (a + da) >= 2:
                trimmed, more = _decode_slots(pieces, slots, a + da, b - db, limit)
                if more <= lost:
                    whole = line[a : a + da] + trimmed + line[b - db : b]
                    score = c.scorer.score(whole)[0]
                    if score > best[0]:
                        best = (score, a + da, b - db, trimmed, more)
    return best[1:]


def _may_hold_utf8(line: str, codecs: tuple[str, ...]) -> bool:
    """Cheap check before the per-character encoding: two whole 3-byte UTF-8 characters.

    Every U+FFFD is taken for byte 0x80 here (a superset of what its slot may hold).
    """
    parts = line.split("\ufffd")
    for codec in codecs:
        raw = b"\x80".join(p.encode(codec, errors="replace") for p in parts)
        if _UTF8_TWO_CJK.search(raw):
            return True
    return False


# Valid UTF-8, then perhaps the start of one more character, cut off by the end (what the
# UTF-8 decoder calls "unexpected end of data"). A match costs far less than a decode that
# raises, which most of the prefixes _readings tries do.
_UTF8_PREFIX = re.compile(
    rb"(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2})*"
    rb"(?:[\xc2-\xdf]|\xe0[\xa0-\xbf]?|[\xe1-\xec\xee\xef][\x80-\xbf]?|\xed[\x80-\x9f]?"
    rb"|\xf0(?:[\x90-\xbf][\x80-\xbf]?)?|[\xf1-\xf3][\x80-\xbf]{0,2}|\xf4(?:[\x80-\x8f][\x80-\xbf]?)?)?"
)


def _prefix_ok(raw: bytes) -> bool:
    """Whether ``raw`` is valid UTF-8 or the start of it."""
    return _UTF8_PREFIX.fullmatch(raw) is not None


def _readings(parts: list[bytes | _Slot], limit: int) -> set[str] | None:
    """The valid UTF-8 readings of known bytes and slots, stopping at two; None past ``limit``.

    Depth first, dropping a choice as soon as the bytes so far cannot start valid UTF-8.
    """
    found: set[str] = set()
    tried = 0

    def walk(i: int, acc: bytes) -> bool:
        nonlocal tried
        if i == len(parts):
            try:
                found.add(acc.decode("utf-8"))
            except UnicodeDecodeError:
                pass
            return len(found) > 1
        part = parts[i]
        if isinstance(part, bytes):
            return walk(i + 1, acc + part)
        for alt in part:
            tried += 1
            if tried > limit:
                return True
            nxt = acc + alt
            if _prefix_ok(nxt) and walk(i + 1, nxt):
                return True
        return False

    walk(0, b"")
    return None if tried > limit else found


def _decode_slots(
    pieces: list[bytes], slots: dict[int, _Slot], a: int, b: int, limit: int
) -> tuple[str, int]:
    """Decode pieces[a:b] as UTF-8, emitting only characters every reading of the slots agrees on.

    A known lead or ASCII byte always starts a character, so the bytes split there into
    chunks that decode on their own. A chunk with slots is decoded under the combinations of
    their alternatives: one valid reading is certain; several, or none (a lost byte the
    decoders cannot explain, a truncated character), make the chunk one U+FFFD. Returns the
    text and the count of U+FFFD it made.
    """
    if not any(a <= k < b for k in slots):
        raw = b"".join(pieces[a:b])
        try:
            return raw.decode("utf-8"), 0
        except UnicodeDecodeError:
            pass
    tokens: list[_Token] = []
    for k in range(a, b):
        slot = slots.get(k)
        if slot is None:
            tokens.extend(pieces[k])
        else:
            tokens.append(slot)
    chunks: list[list[_Token]] = []
    for t in tokens:
        if not chunks or (isinstance(t, int) and (t < 0x80 or 0xC2 <= t <= 0xF4)):
            chunks.append([t])
        else:
            chunks[-1].append(t)
    out: list[str] = []
    lost = 0
    for chunk in chunks:
        parts: list[bytes | _Slot] = []
        known = bytearray()
        for t in chunk:
            if isinstance(t, int):
                known.append(t)
            else:
                parts += [bytes(known), t]
                known = bytearray()
        if len(parts) == 0:
            try:
                out.append(bytes(known).decode("utf-8"))
                continue
            except UnicodeDecodeError:
                readings = None
        else:
            parts.append(bytes(known))
            readings = _readings(parts, limit)
        if readings is not None and len(readings) == 1:
            out.append(readings.pop())
        else:
            out.append("\ufffd")
            lost += 1
    return "".join(out), lost


# --- unrepairable, pinyin, lines -----------------------------------------------------------


def _unrepairable(text: str, remove: bool, changes: Counter[str]) -> str:
    if "\ufffd" not in text and "锟斤" not in text:
        return text
    n = len(_UNREPAIRABLE.findall(text))
    if not n:
        return text
    changes["fix.unrepairable"] += n
    return _UNREPAIRABLE.sub("", text) if remove else text


def _syllable(body: str, syllables: frozenset[str]) -> tuple[bool, bool]:
    """(is a Mandarin syllable, carries a tone mark) for the text inside the parentheses."""
    letters: list[str] = []
    tones = 0
    for ch in unicodedata.normalize("NFD", body):
        if ch in _TONE_MARKS:
            tones += 1
        elif ch == "\u0308" and letters and letters[-1] in "uv":
            letters[-1] = "ü"
        elif ch == "\u0302" and letters and letters[-1] == "e":
            letters[-1] = "ê"
        elif "a" <= ch <= "z":
            letters.append(ch)
        else:
            return False, False
    if tones > 1 or not letters:
        return False, False
    word = "".join(letters).replace("v", "ü")
    if word in syllables:
        return True, tones == 1
    # nue/lue is the common keyboard spelling of nüe/lüe
    if word[:1] in "nl" and word[1:2] == "u" and word[:1] + "ü" + word[2:] in syllables:
        return True, tones == 1
    return False, False


def _remove_pinyin(text: str, c: _Compiled, changes: Counter[str]) -> str:
    # Readings in a row, 會(huì)(huì), come off one per pass.
    while True:
        new = _remove_pinyin_once(text, c, changes)
        if new == text:
            return text
        text = new


def _remove_pinyin_once(text: str, c: _Compiled, changes: Counter[str]) -> str:
    found = []
    for m in _PINYIN.finditer(text):
        ok, toned = _syllable(m.group(1), c.syllables)
        if ok:
            found.append((m.start(), m.end(), toned or bool(m.group(2))))
    if not found:
        return text
    # A bare "(an)" or "(e)" after a character can be a label; toneless readings are taken
    # for artifacts only when the document has enough of them.
    keep_toneless = len(found) < c.cfg["pinyin_toneless_min"]
    out = []
    last = 0
    n = 0
    for start, end, toned in found:
        if not toned and keep_toneless:
            continue
        out.append(text[last:start])
        last = end
        n += 1
    if not n:
        return text
    out.append(text[last:])
    changes["fix.pinyin"] += n
    return "".join(out)


def _lines(text: str, c: _Compiled, changes: Counter[str]) -> str:
    cfg = c.cfg
    # The multiline ^ and $ patterns cost a test at every position; whitespace can only be
    # leading or trailing at the ends of the text or next to a line break, which
    # _LINE_EDGE_SPACE finds by its literal "\n" (most pages have none).
    if text[:1] in _LINE_SPACE or text[-1:] in _LINE_SPACE or _LINE_EDGE_SPACE.search(text):
        if cfg["strip_trailing_space"]:
            text = _sub_count(c.trailing, "", text, changes, "fix.trailing_space")
        if cfg["strip_leading_space"]:
            text = _sub_count(c.leading, "", text, changes, "fix.leading_space")
    if c.blank_run in text:
        text = _sub_count(
            c.blank_lines,
            "\n" * (int(cfg["max_blank_lines"]) + 1),
            text,
            changes,
            "fix.blank_lines",
        )
    if not text.startswith("\n") and not text.endswith("\n\n"):
        return text  # what the lines below return, without their three copies of the text
    ends_with_newline = text.endswith("\n")
    stripped = text.strip("\n")
    if stripped != text.rstrip("\n") or text.rstrip("\n") + "\n" * ends_with_newline != text:
        changes["fix.blank_lines"] += 1
    return stripped + ("\n" if ends_with_newline and stripped else "")
