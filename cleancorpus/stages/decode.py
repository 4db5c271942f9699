"""decode: bytes to text.

Order of evidence: a byte-order mark; strict UTF-8 (unless pure ASCII that chardet names a 7-bit
encoding: ISO-2022, HZ, UTF-7); chardet's guess (GB2312/GBK promoted to
GB18030, Big5 to Big5-HKSCS, both supersets); then the configured fallbacks. A candidate is
accepted only if it decodes the whole document, except that a multibyte character cut off at
the very end (a truncated download) is dropped and counted as ``decode.truncated``.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

import chardet

from cleancorpus.config import Frozen
from cleancorpus.document import DocumentError

# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

# Detectors name the common subset; the superset decodes everything the subset does.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs"}

# What the codecs say of a multibyte character cut off by the end of the input (a truncated
# download), as opposed to bytes that are wrong (a GBK character at the end of text taken
# for UTF-8: "invalid continuation byte").
_INCOMPLETE = frozenset(
    {"unexpected end of data", "incomplete multibyte sequence", "truncated data"}
)

# C0 controls, less those that text files legitimately contain (tab, newlines, form feed, ESC).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


class Decoded(NamedTuple):
    text: str
    encoding: str
    confidence: float
    changes: Counter[str]


def _codec_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _decode_whole(raw: bytes, codec: str) -> tuple[str, bool] | None:
    """Decode all of ``raw`` or None; True in the result if a cut-off final character was dropped."""
    try:
        return raw.decode(codec), False
    except UnicodeDecodeError as exc:
        if exc.end != len(raw) or exc.reason not in _INCOMPLETE or exc.start == 0:
            return None
        try:
            return raw[: exc.start].decode(codec), True
        except UnicodeDecodeError:
            return None
    except LookupError:
        return None


def _looks_binary(text: str, ratio: float) -> bool:
    if "\x00" in text:
        return True
    if not text:
        return False
    sample = text[:65536]
    return len(_CONTROLS.findall(sample)) > ratio * len(sample)


def _accept(text: str, encoding: str, confidence: float, truncated: bool, cfg: Frozen) -> Decoded:
    if _looks_binary(text, cfg["binary_control_ratio"]):
        raise DocumentError("binary: control characters in decoded text")
    changes: Counter[str] = Counter()
    if truncated:
        changes["decode.truncated"] += 1
    return Decoded(text, encoding, confidence, changes)


def _sample(raw: bytes, size: int) -> bytes:
    if len(raw) <= size:
        return raw
    half = size // 2
    # Cut the tail sample on a line boundary so it starts on a character boundary too.
    tail = raw[-half:]
    nl = tail.find(b"\n")
    return raw[:half] + (tail[nl + 1 :] if 0 <= nl < len(tail) - 1 else tail)


_BOMLESS = ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be")
# Characters of Chinese text: CJK ideographs and punctuation, full-width forms, printable ASCII.
_TEXT_CHAR = re.compile(
    "[\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef\u2010-\u2027\x20-\x7e\n\r\t\u00a0-\u00ff]"
)


def _plausible_wide(raw: bytes, codec: str, threshold: float) -> str | None:
    """``raw`` decoded as a BOM-less UTF-16/32 codec, if nearly all of it is text-like.

    Other bytes read as UTF-16 land all over the code space (Hangul, surrogates, private
    use), so a high share of CJK, punctuation and ASCII is strong evidence.
    """
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    if not text or "\x00" in text:
        return None
    share = len(_TEXT_CHAR.findall(text)) / len(text)
    return text if share >= threshold else None


_ODD = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff\x00-\x08\x0e-\x1f]")


def _scatter(raw: bytes, codec: str) -> int:
    """How scattered a reading is: the 256-character rows of Unicode it spans, and ten for
    each private-use or control character (huge if it does not decode)."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return 1 << 30
    return len({ord(ch) >> 8 for ch in text}) + 10 * len(_ODD.findall(text))


def _byte_order(raw: bytes, codec: str) -> str:
    """Of a BOM-less UTF-16/32 codec and the one of the other byte order, the one whose
    reading is less scattered (text keeps to a few scripts; read the wrong way round, its
    low bytes scatter it all over, private use included): chardet calls Chinese UTF-16-LE
    with ASCII in it (digits, brackets) UTF-16-BE at 0.95. On a tie, chardet's answer."""
    other = codec[:-2] + ("be" if codec.endswith("le") else "le")
    return other if _scatter(raw, other) < _scatter(raw, codec) else codec


def _detect(sample: bytes, cfg: Frozen) -> dict:
    """chardet's guess. The fast path asks about today's web encodings only (about 7x
    quicker) and keeps the answer when it is Chinese with some confidence (asked about web
    encodings only, Johab Korean and EBCDIC Greek came out GB18030 at 0.01); anything else gets
    the full detector, so legacy and non-Chinese encodings are still named right."""
    if cfg["fast_detect"]:
        guess = chardet.detect(sample, encoding_era=chardet.EncodingEra.MODERN_WEB)
        if (
            guess.get("language") == "zh"
            and guess.get("encoding")
            and (guess.get("confidence") or 0.0) >= cfg["fast_detect_min_confidence"]
        ):
            return guess
    return chardet.detect(sample)


def _window(raw: bytes, at: int, size: int) -> bytes:
    """``size`` bytes of ``raw`` from a little before ``at``, where a sample missed something."""
    start = max(0, min(at - 4096, len(raw) - size))
    return raw[start : start + size]


_HIGH_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*\n?")


def _high_lines(raw: bytes, at: int, size: int) -> bytes:
    """Up to ``size`` bytes of the lines that hold non-ASCII bytes, from the line of ``at``
    on: what a detector needs of a big, mostly ASCII file (a log, a feed, a table)."""
    out = bytearray()
    for m in _HIGH_LINE.finditer(raw, raw.rfind(b"\n", 0, at) + 1):
        if out and len(out) + len(m.group()) > size:
            break
        out += m.group()
    return bytes(out[:size])


# Encodings whose bytes are all ASCII: ISO-2022 (escape sequences), HZ (~{ ... ~}, Chinese),
# UTF-7 (+ and base64). Text with one of their marks is put to chardet, which tells them apart from
# ASCII that merely holds such a mark (a terminal colour code, "a+b-c").
_SEVEN_BIT = frozenset(
    ["hz", "utf-7", "iso2022_kr"]
    + ["iso2022_jp" + v for v in ("", "_1", "_2", "_2004", "_3", "_ext")]
)
_SEVEN_BIT_MARK = re.compile(rb"\x1b[$()]|~\{|\+[A-Za-z0-9/+]{3}")


def _seven_bit(raw: bytes, cfg: Frozen) -> Decoded | None:
    size = cfg["detect_sample_bytes"]
    guess = chardet.detect(_sample(raw, size))
    codec = _codec_name(guess["encoding"]) if guess.get("encoding") else None
    if codec not in _SEVEN_BIT and len(raw) > size:
        # The marks may all lie between the sample's head and tail: look where the first is.
        mark = _SEVEN_BIT_MARK.search(raw)
        guess = chardet.detect(_window(raw, mark.start() if mark else 0, size))
        codec = _codec_name(guess["encoding"]) if guess.get("encoding") else None
    if codec not in _SEVEN_BIT:
        return None
    result = _decode_whole(raw, codec)
    if result is None:
        return None
    return _accept(result[0], codec, float(guess.get("confidence") or 0.0), result[1], cfg)


def decode(raw: bytes, cfg: Frozen) -> Decoded:
    """Decode one document's bytes, or raise DocumentError (binary, undecodable).

    >>> decode("会议明确".encode("gb18030"), cfg).text   # via chardet: GB2312 -> gb18030
    '会议明确'
    """
    if not raw:
        return Decoded("", "utf-8", 1.0, Counter())
    for bom, codec, label in _BOMS:
        if raw.startswith(bom):
            result = _decode_whole(raw[len(bom) :], codec)
            if result is None:
                raise DocumentError(f"undecodable: invalid {label} after its byte-order mark")
            return _accept(result[0], label, 1.0, result[1], cfg)

    if b"\x00" not in raw:
        result = _decode_whole(raw, "utf-8")
        if result is not None:
            if raw.isascii():
                if _SEVEN_BIT_MARK.search(raw):
                    seven = _seven_bit(raw, cfg)
                    if seven is not None:
                        return seven
                return _accept(result[0], "ascii", 1.0, result[1], cfg)
            return _accept(result[0], "utf-8", 1.0, result[1], cfg)
        mixed = _mixed(raw, cfg)
        if mixed is not None:
            return mixed

    size = cfg["detect_sample_bytes"]
    guess = _detect(_sample(raw, size), cfg)
    if guess.get("encoding") is None:
        # chardet takes BOM-less UTF-16/32 Chinese for binary when it has few NUL bytes.
        for codec in _BOMLESS:
            text = _plausible_wide(raw, codec, cfg["wide_min_plausible"])
            if text is not None:
                return _accept(text, codec, cfg["wide_min_plausible"], False, cfg)
        mime = guess.get("mime_type") or "unknown"
        raise DocumentError(f"binary: not text ({mime})")
    detected = _codec_name(guess["encoding"])
    codec = _SUPERSETS.get(detected, detected)
    if codec in _BOMLESS:
        codec = _byte_order(raw, codec)
    # A reading with control characters is no reading (short UTF-16 Chinese without ASCII
    # is named CP932): the next candidates are tried before the document is called binary.
    binary = False
    for name, confidence, result in _candidates(raw, codec, guess, cfg):
        if result is None:
            continue
        if _looks_binary(result[0], cfg["binary_control_ratio"]):
            binary = True
            continue
        return _accept(result[0], name, confidence, result[1], cfg)
    if binary:
        raise DocumentError("binary: control characters in decoded text")
    raise DocumentError(f"undecodable: no encoding decodes the whole document (guessed {detected})")


_HIGH_BYTES = bytes(range(0x80, 0x100))


def _high(line: bytes) -> int:
    return len(line) - len(line.translate(None, _HIGH_BYTES))


def _mixed(raw: bytes, cfg: Frozen) -> Decoded | None:
    """A UTF-8 page with some lines in a legacy encoding (a GBK footer from an older template
    under a UTF-8 article): the lines valid as UTF-8 are UTF-8, the others take the Chinese,
    Japanese or Korean encoding chardet names for them, or else UTF-8 with U+FFFD for the bad
    bytes (``decode.replaced_lines``). Only when most non-ASCII bytes are in valid UTF-8 lines, at
    least ``mixed_min_utf8_bytes`` of them: short GBK lines can be valid UTF-8 by chance, a
    whole GBK page is not."""
    lines = raw.split(b"\n")
    parts: list[str] = []
    good = bad_high = 0
    bad: list[int] = []
    for i, line in enumerate(lines):
        try:
            parts.append(line.decode("utf-8"))
            good += _high(line)
        except UnicodeDecodeError:
            parts.append("")
            bad.append(i)
            bad_high += _high(line)
    if good < cfg["mixed_min_utf8_bytes"] or good <= bad_high:
        return None
    guess = _detect(b"\n".join(lines[i] for i in bad), cfg)
    # A few bytes of a Western encoding get wild guesses (cp1253 for "café"): only a CJK
    # answer is taken; other bad lines are damaged UTF-8.
    cjk = guess.get("encoding") and guess.get("language") in ("zh", "ja", "ko")
    detected = _codec_name(guess["encoding"]) if cjk else "utf-8"
    codec = _SUPERSETS.get(detected, detected)
    changes: Counter[str] = Counter()
    for i in bad:
        result = _decode_whole(lines[i], codec)
        if result is None:
            parts[i] = lines[i].decode("utf-8", "replace")
            changes["decode.replaced_lines"] += 1
        else:
            parts[i] = result[0]
            changes["decode.mixed_lines"] += 1
    if cjk:
        label, confidence = f"utf-8+{codec}", float(guess.get("confidence") or 0.0)
    else:
        label, confidence = "utf-8", 1.0
    decoded = _accept("\n".join(parts), label, confidence, False, cfg)
    decoded.changes.update(changes)
    return decoded


def _candidates(
    raw: bytes, codec: str, guess: dict, cfg: Frozen
) -> Iterator[tuple[str, float, tuple[str, bool] | None]]:
    """(codec, confidence, whole-document decoding or None), in order of evidence, each
    worked out only when the ones before it did not do."""
    yield codec, float(guess.get("confidence") or 0.0), _decode_whole(raw, codec)
    size = cfg["detect_sample_bytes"]
    if len(raw) > size:
        # What the sample (head and tail) showed is not what the middle holds: ask again
        # about the lines with non-ASCII bytes, from the first byte the guess cannot decode.
        again = _detect(_high_lines(raw, _first_error(raw, codec), size), cfg)
        if again.get("encoding"):
            retry = _codec_name(again["encoding"])
            retry = _SUPERSETS.get(retry, retry)
            yield retry, float(again.get("confidence") or 0.0), _decode_whole(raw, retry)
    for fallback in cfg["fallback_encodings"]:
        fallback = _codec_name(fallback)
        if fallback == codec:
            continue
        if fallback.startswith(("utf-16", "utf-32")):
            # Any even-length input decodes as UTF-16: only text that reads as text.
            text = _plausible_wide(raw, fallback, cfg["wide_min_plausible"])
            yield fallback, 0.0, None if text is None else (text, False)
        else:
            yield fallback, 0.0, _decode_whole(raw, fallback)


def _first_error(raw: bytes, codec: str) -> int:
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    except LookupError:
        pass
    return 0
