"""Matching view, shingles and MinHash signatures, vectorised across shingles and documents.

The permutation family is datasketch's ``affine32`` scheme: each 32-bit shingle hash is
pre-mixed with the MurmurHash3 finalizer, then permuted by ``a * h + b mod 2**32`` with odd
``a`` (uint32 wrap-around is the modulo, so there is no 64-bit ``%``). With the same seed our
hash values are bit-identical to ``datasketch.MinHash(scheme="affine32", seed=seed,
hashfunc=<our shingle hash>)``, so signatures drop into ``MinHashLSH`` as ``LeanMinHash``.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import xxhash

from cleancorpus.config import Frozen

_U32 = np.uint32
_U64 = np.uint64
_MAX32 = np.uint32(0xFFFFFFFF)
# Characters at or above this code point (CJK radicals, kana, ideographs, Hangul syllables...)
# are tokens on their own; below it, letters and digits form words separated by spaces.
_IDEOGRAPHIC_START = 0x2E80
# Odd 64-bit constants for the polynomial token/shingle hashes (golden ratio, Murmur).
_MUL_TOKEN = np.uint64(0x9E3779B97F4A7C15)
_MUL_SHINGLE = np.uint64(0xC2B2AE3D27D4EB4F)
_MUL_SHINGLE_INV = pow(int(_MUL_SHINGLE), -1, 1 << 64)
# Shingles per (num_perm x shingles) block, at least. Measured (numpy 2.4, x86-64): the
# multiply, add and min run 2-3 times faster per element on rows of 8192 or more than on
# rows of 4096 or less, although the block no longer fits in L2.
_CHUNK_ROWS = 8192
_FOLD_RE = re.compile(r"[\W_]+")
# A pinyin syllable with a tone mark in parentheses right after a Han character: a
# converter artifact ("會(huì)議"); removed from the matching view only.
_TONE_VOWELS = "[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]"
_PINYIN_RE = re.compile(
    r"[(（](?<=[\u3400-\u9fff][(（])" r"[a-zü]*" + _TONE_VOWELS + r"[a-zü]*" r"[)）]",
    re.IGNORECASE,
)


class Signature(NamedTuple):
    """A document's fingerprint: small and cheap to pickle.

    ``hashvalues`` are num_perm uint32 MinHash values (datasketch affine32 scheme),
    ``bands`` the uint64 LSH band hashes, ``sketch`` 4 bits of each hash value packed two per
    byte (for the Jaccard check in the parent), ``exact`` a 64-bit hash of the matching text,
    ``shingles`` the shingle count (0: too short for LSH), ``length`` the matching-text length.
    """

    hashvalues: np.ndarray
    bands: np.ndarray
    sketch: np.ndarray
    exact: int
    shingles: int
    length: int

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # numpy's own array pickling costs ~100 us per array here; raw bytes cost ~1 us.
        return (
            _rebuild_signature,
            (
                self.hashvalues.tobytes(),
                self.bands.tobytes(),
                self.sketch.tobytes(),
                self.exact,
                self.shingles,
                self.length,
            ),
        )

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two shingle sets (full signatures)."""
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)


def _rebuild_signature(
    values: bytes, bands: bytes, sketch: bytes, exact: int, shingles: int, length: int
) -> Signature:
    return Signature(
        np.frombuffer(values, dtype=_U32),
        np.frombuffer(bands, dtype=_U64),
        np.frombuffer(sketch, dtype=np.uint8),
        exact,
        shingles,
        length,
    )


class Params(NamedTuple):
    num_perm: int
    seed: int
    bands: int
    rows: int
    shingle_size: int
    word_shingle_size: int
    ideographic_share: float
    to_simplified: bool
    strip_pinyin: bool


@functools.lru_cache(maxsize=64)
def lsh_params(
    threshold: float, num_perm: int, fp_weight: float, fn_weight: float
) -> tuple[int, int]:
    """(bands, rows) minimising datasketch's weighted false positive/negative areas.

    The same search as datasketch's ``_optimal_param``, with its integrals of
    1-(1-s^r)^b evaluated by Gauss-Legendre quadrature (exact for these polynomials) instead
    of scipy's: importing datasketch's LSH module pulls in scipy, a second per process.
    """
    # n nodes integrate exactly up to degree 2n-1; 1-(1-s^r)^b has degree r*b <= num_perm.
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    b = np.array([p[0] for p in pairs], dtype=np.float64)[:, None]
    r = np.array([p[1] for p in pairs], dtype=np.float64)[:, None]

    def area(lo: float, hi: float, negative: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        hit = 1 - (1 - s[None, :] ** r) ** b
        return ((1 - hit) if negative else hit) @ weights * (hi - lo) / 2

    error = area(0.0, threshold, False) * fp_weight + area(threshold, 1.0, True) * fn_weight
    return pairs[int(np.argmin(error))]


@functools.lru_cache(maxsize=16)
def params(cfg: Frozen) -> Params:
    weights = tuple(float(w) for w in cfg["weights"])
    bands, rows = lsh_params(float(cfg["threshold"]), int(cfg["num_perm"]), *weights)
    return Params(
        num_perm=int(cfg["num_perm"]),
        seed=int(cfg["seed"]),
        bands=bands,
        rows=rows,
        shingle_size=max(1, int(cfg["shingle_size"])),
        word_shingle_size=max(1, int(cfg["word_shingle_size"])),
        ideographic_share=float(cfg["ideographic_share"]),
        to_simplified=bool(cfg["to_simplified"]),
        strip_pinyin=bool(cfg["strip_pinyin"]),
    )


@functools.lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) exactly as datasketch's MinHash draws them for scheme affine32."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=_U32) * _U32(2) + _U32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=_U32)
    return a, b


def _power(base: np.uint64, exp: int) -> np.uint64:
    return np.uint64(pow(int(base), exp, 1 << 64))


def fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


def fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def _fmix64_inplace(h: np.ndarray) -> np.ndarray:
    """:func:`fmix64` overwriting ``h`` (a uint64 array): no temporaries but one shift."""
    shifted = np.empty_like(h)
    for mul in (_U64(0xFF51AFD7ED558CCD), _U64(0xC4CEB9FE1A85EC53), None):
        np.right_shift(h, _U64(33), out=shifted)
        h ^= shifted
        if mul is not None:
            h *= mul
    return h


@functools.lru_cache(maxsize=8)
def _power_table(base: int, size: int) -> np.ndarray:
    table = np.full(size, base, dtype=_U64)
    table[0] = 1
    np.multiply.accumulate(table, out=table)
    table.flags.writeable = False
    return table


def _powers(base: int, n: int) -> np.ndarray:
    """base**0 .. base**(n-1) mod 2**64 (read-only); tables for batch-sized n are cached."""
    size = max(1024, 1 << (n - 1).bit_length())
    if size > 1 << 20:
        return _power_table.__wrapped__(base, n)  # a huge batch: do not keep 8 MB tables
    return _power_table(base, size)[:n]


# ---- matching view -------------------------------------------------------------------------


_TABLE_SIZE = 0x30000  # code points above: treated as word characters needing no folding


@functools.lru_cache(maxsize=1)
def _t2s() -> tuple[Any, np.ndarray]:
    """The OpenCC t2s converter and a lookup table of every character it changes alone.

    Built once per process (~0.1 s) so that text with nothing to convert skips OpenCC.
    """
    import opencc

    converter = opencc.OpenCC("t2s")
    ranges = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2CEB0)]
    codes = [c for lo, hi in ranges for c in range(lo, hi)]
    converted = converter.convert("\n".join(map(chr, codes))).split("\n")
    table = np.zeros(_TABLE_SIZE, dtype=bool)
    if len(converted) != len(codes):
        table[codes] = True  # unexpected shape: convert any Han text rather than miss some
    else:
        table[[c for c, t in zip(codes, converted, strict=True) if chr(c) != t]] = True
    return converter, table


@functools.lru_cache(maxsize=1)
def _fold_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point: is it a word character (letter/digit, not ``_``), and does NFKC or
    casefolding change it beyond what the vectorised folds below handle (ASCII case,
    full-width ASCII, U+3000)? Text with such a character takes the slow Python path."""
    allchars = "".join(map(chr, range(_TABLE_SIZE)))
    word = (
        np.frombuffer(
            _FOLD_RE.sub(lambda m: "\x00" * len(m.group()), allchars).encode(
                "utf-32-le", "surrogatepass"
            ),
            dtype="<u4",
        )
        != 0
    )
    slow = np.zeros(_TABLE_SIZE, dtype=bool)
    for c in range(0x80, _TABLE_SIZE):
        if 0xD800 <= c < 0xE000 or 0xFF01 <= c <= 0xFF5E or c == 0x3000:
            continue
        ch = chr(c)
        if (
            unicodedata.combining(ch)
            or unicodedata.normalize("NFKC", ch) != ch
            or ch.casefold() != ch
        ):
            slow[c] = True
    return word, slow


# Bits of _flag_table: NFKC may change the character (full-width punctuation: common); the
# rare ones: a tone-marked vowel (a pinyin artifact may follow), it needs the slow
# NFKC/casefold path, OpenCC t2s changes it.
_NFKC, _TONE, _SLOW, _T2S = np.uint8(1), np.uint8(2), np.uint8(4), np.uint8(8)


@functools.lru_cache(maxsize=2)
def _flag_table(to_simplified: bool) -> np.ndarray:
    """The bits above per code point below _TABLE_SIZE; the last entry, for every code point
    above (none of which has a case mapping or an NFKC change), has none: index it with
    ``np.minimum(cp, _TABLE_SIZE)``."""
    _, slow = _fold_tables()
    nfkc = slow.copy()
    nfkc[0xFF01:0xFF5F] = True
    nfkc[0x3000] = True
    allchars = "".join(map(chr, range(_TABLE_SIZE)))
    tone = np.zeros(_TABLE_SIZE, dtype=bool)
    tone[[m.start() for m in re.finditer(_TONE_VOWELS, allchars, re.IGNORECASE)]] = True
    flags = np.zeros(_TABLE_SIZE + 1, dtype=np.uint8)
    flags[:-1] = nfkc * _NFKC + tone * _TONE + slow * _SLOW
    if to_simplified:
        flags[:-1] += _t2s()[1] * _T2S
    return flags


@functools.lru_cache(maxsize=1)
def _fold_table() -> np.ndarray:
    """Per code point below _TABLE_SIZE, what the matching view makes of it: ASCII and
    full-width ASCII letters lower-cased and full-width made ASCII, then anything that is not
    a word character a space (32); 0 (the end of a document) stays 0."""
    word, _ = _fold_tables()
    c = np.arange(_TABLE_SIZE + 1, dtype=_U32)
    c[0x41:0x5B] += 32
    c[0xFF01:0xFF5F] -= 0xFEE0
    c[0xFF21:0xFF3B] += 32  # full-width capitals, now ASCII capitals
    c[:-1][~word[c[:-1]]] = 32
    c[0] = 0
    return c


def _fold_batch(texts: Sequence[str], p: Params) -> np.ndarray:
    """Code points of the matching views of ``texts``, each followed by a 0; every character
    that is not a letter or digit becomes a space (32).

    Vectorised: one encode of the whole batch and table look-ups; the pinyin pattern, OpenCC
    and NFKC/casefold run only on the documents that have a character needing them.
    """
    work = list(texts)
    table = _flag_table(p.to_simplified)
    cp = _encode(work)
    flags, rare = _scan(cp, work, table)
    if p.strip_pinyin:
        changed = False
        for i in _docs(rare, _TONE):  # the pattern cannot match without a tone mark
            t = work[i]
            if "(" in t or "（" in t:
                work[i] = _PINYIN_RE.sub("", t)
                changed = changed or work[i] != t
        if changed:
            cp = _encode(work)
            flags, rare = _scan(cp, work, table)
    need_slow = _docs(rare, _SLOW)
    if p.to_simplified:
        need = _docs(rare, _T2S)
        if need.size:
            converter, _ = _t2s()
            for i in need:
                work[i] = converter.convert(work[i])
            # Conversion can introduce characters that need the slow path, so check again.
            cp = _encode(work)
            flags, rare = _scan(cp, work, table)
            need_slow = np.union1d(need_slow, _docs(rare, _SLOW))
    if need_slow.size:
        # NFKC(x + c + y) == NFKC(x + NFKC(c) + y) for any character c (both sides have the
        # same NFKD), so the characters NFKC changes are replaced first: normalize's quick
        # check then passes instead of recomposing the whole document.
        found = [chr(c) for c in np.unique(cp[(flags & _NFKC) != 0])]
        pairs = [(c, n) for c in found if (n := unicodedata.normalize("NFKC", c)) != c]
        for i in need_slow:
            t = work[i]
            for c, n in pairs:
                if c in t:
                    t = t.replace(c, n)
            work[i] = unicodedata.normalize("NFKC", t).casefold()
        cp = _encode(work)
    folded = _fold_table()[np.minimum(cp, _TABLE_SIZE)]
    if cp.max() >= _TABLE_SIZE:
        high = cp >= _TABLE_SIZE
        folded[high] = np.where(cp[high] < 0xE0000, cp[high], 32)
    return folded


def _scan(
    cp: np.ndarray, work: Sequence[str], table: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The flags of every code point of ``_encode(work)``, and for the characters with a rare
    flag (few), their documents and flags."""
    flags = table[np.minimum(cp, _TABLE_SIZE)]
    pos = np.flatnonzero(flags > _NFKC)
    ends = np.cumsum([len(t) + 1 for t in work]) - 1
    return flags, (np.searchsorted(ends, pos), flags[pos])


def _docs(rare: tuple[np.ndarray, np.ndarray], bit: np.uint8) -> np.ndarray:
    """The documents with a character flagged ``bit`` (a rare one), in order."""
    docs, flags = rare
    return np.unique(docs[(flags & bit) != 0])


def _encode(texts: Sequence[str]) -> np.ndarray:
    # NUL inside a document would read as a document boundary: it is not a word character.
    joined = "\x00".join(t.replace("\x00", " ") for t in texts) + "\x00"
    return np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def matching_view(text: str, cfg: Frozen) -> str:
    """The text as compared for duplicates: Simplified, pinyin artifacts, punctuation, width,
    case and whitespace folded; words separated by single spaces.

    >>> matching_view("會(huì)議：  ＡＢＣ，Hello!", load_config()["dedup"])
    '会议 abc hello'
    """
    cp = _fold_batch([text], params(cfg))
    return " ".join(cp[:-1].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass").split())


# ---- shingles ------------------------------------------------------------------------------


def shingle_hashes(views: Sequence[str], p: Params) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every shingle of every view, and each document's shingle count."""
    hv, counts, _, _, _, _ = _shingles(_encode(views), len(views), p)
    return hv, counts


def _shingles(
    cp: np.ndarray, ndocs: int, p: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shingle hashes from folded code points (documents ended by 0, separators 32).

    Tokens: each ideographic character, each run of letters/digits (a word). A document whose
    tokens are mostly ideographic gets ``shingle_size``-token shingles, else
    ``word_shingle_size``; a document with fewer tokens than that is one shingle of all of them.
    All of it runs as whole-array numpy operations over the concatenated documents. Returns
    shingle hashes, shingle counts, token hashes, each document's first token and token count,
    and each document's count of word characters.
    """
    counts = np.zeros(ndocs, dtype=np.int64)
    no_tokens = np.zeros(0, dtype=_U64)
    if ndocs == 0:
        return np.zeros(0, dtype=_U32), counts, no_tokens, counts, counts, counts
    is_end = cp == 0
    keep = ~is_end
    keep &= cp != 32
    ideo = cp >= _IDEOGRAPHIC_START
    wordc = keep & ~ideo
    start = wordc.copy()
    start[1:] &= ~wordc[:-1]
    start |= ideo  # an ideographic character is a token; a word starts after a non-word
    kcp = cp[keep]
    if kcp.size == 0:
        return np.zeros(0, dtype=_U32), counts, no_tokens, counts, counts, counts
    ends = np.flatnonzero(is_end)
    doc_starts = np.concatenate(([0], ends[:-1] + 1))
    ntok, nideo, lengths = (
        np.add.reduceat(x, doc_starts, dtype=np.int64) for x in (start, ideo, keep)
    )
    # Each token hash: sum(g[k] * M**(k-s)) over its characters k = s, s+1, ... (g: the mixed
    # code points). Most tokens are one character, so g[s]; the few further characters of
    # words are added to their tokens.
    n = kcp.size
    kstart = start[keep]
    tok_start_idx = np.flatnonzero(kstart)
    g = kcp.astype(_U64)
    g += _U64(0x632BE59BD9B4E019)
    g = _fmix64_inplace(g)
    if tok_start_idx.size == n:
        tok = g
    else:
        tok = g[tok_start_idx]
        more = np.flatnonzero(~kstart)
        owner = np.searchsorted(tok_start_idx, more, side="right") - 1
        offset = more - tok_start_idx[owner]
        weighted = g[more] * _powers(int(_MUL_TOKEN), int(offset.max()) + 1)[offset]
        np.add.at(tok, owner, weighted)

    size = np.where(nideo >= p.ideographic_share * ntok, p.shingle_size, p.word_shingle_size)
    win = np.minimum(size, ntok)  # window length per document
    first_tok = np.concatenate(([0], np.cumsum(ntok)[:-1]))
    counts = np.where(ntok > 0, ntok - win + 1, 0)

    # Each shingle: the window of its document's length starting at each token but the last
    # win - 1 of its document; its hash sum(tok[k] * S**(k-s) for k in s..e-1) taken as a
    # difference of prefix sums, (P[e] - P[s]) * S**-s with P[i] = sum(tok[k] * S**k, k < i),
    # exact in the integers mod 2**64, where the odd S is invertible.
    nsh = int(counts.sum())
    t_win = np.repeat(win, counts)
    first = np.repeat(first_tok - (np.cumsum(counts) - counts), counts)
    first += np.arange(nsh)
    prefix = np.zeros(tok.size + 1, dtype=_U64)
    np.cumsum(tok * _powers(int(_MUL_SHINGLE), tok.size), out=prefix[1:])
    h = prefix[first + t_win]
    h -= prefix[first]
    h *= _powers(_MUL_SHINGLE_INV, tok.size)[first]
    # Mix in the window length so a 2-token document differs from a 2-token prefix.
    h ^= t_win.astype(_U64)
    h = _fmix64_inplace(h)
    h >>= _U64(32)
    return h.astype(_U32), counts, tok, first_tok, ntok, lengths


def minhash_many(hv: np.ndarray, counts: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """(documents x num_perm) uint32 MinHash values; ``hv`` holds the documents' shingle hashes
    back to back (``counts`` each). A document with no shingles gets datasketch's empty value.

    The (num_perm x shingles) layout makes the per-document minimum a reduction along
    contiguous rows, several times faster than reducing across rows.
    """
    a, b = permutations(num_perm, seed)
    out = np.full((num_perm, len(counts)), _MAX32, dtype=_U32)
    if hv.size == 0:
        return np.ascontiguousarray(out.T)
    mixed = fmix32(hv)
    doc_of = np.repeat(np.arange(len(counts)), counts)
    col_a, col_b = a[:, None], b[:, None]
    # Equal blocks of _CHUNK_ROWS to 2 * _CHUNK_ROWS shingles (no short remainder block).
    step = -(-hv.size // max(1, hv.size // _CHUNK_ROWS))
    scratch = _scratch(num_perm * step)
    for s in range(0, hv.size, step):
        e = min(s + step, hv.size)
        m = scratch[: num_perm * (e - s)].reshape(num_perm, e - s)
        np.multiply(col_a, mixed[None, s:e], out=m)
        m += col_b
        docs = doc_of[s:e]
        seg = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        red = np.minimum.reduceat(m, seg, axis=1)
        d = docs[seg]
        out[:, d] = np.minimum(out[:, d], red)
    return np.ascontiguousarray(out.T)


_SCRATCH = threading.local()


def _scratch(size: int) -> np.ndarray:
    """A uint32 work array of ``size`` elements, kept per thread: the (num_perm x shingles)
    block written fresh each call ran at half the speed of one written over again."""
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buf = np.empty(size, dtype=_U32)
    return buf[:size]


def band_hashes(values: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents x bands) uint64 hashes of each band's ``rows`` hash values."""
    v = values[:, : bands * rows].reshape(len(values), bands, rows).astype(_U64)
    salt, weight = _band_constants(rows)
    h = (fmix64(v + salt) * weight).sum(axis=2, dtype=_U64)
    # The band number is mixed in so equal values in different bands never collide.
    return fmix64(h ^ np.arange(bands, dtype=_U64))


@functools.lru_cache(maxsize=8)
def _band_constants(rows: int) -> tuple[np.ndarray, np.ndarray]:
    salt = np.array([_power(_MUL_SHINGLE, j + 1) for j in range(rows)], dtype=_U64)
    weight = np.array([_power(_MUL_TOKEN, j) for j in range(rows)], dtype=_U64)
    return salt, weight


def pack_sketch(values: np.ndarray) -> np.ndarray:
    """4 low bits of every hash value, two per byte: (documents x num_perm/2) uint8."""
    nib = (values & _U32(0xF)).astype(np.uint8)
    if nib.shape[1] % 2:
        nib = np.concatenate((nib, np.zeros((len(nib), 1), dtype=np.uint8)), axis=1)
    return nib[:, 0::2] | (nib[:, 1::2] << np.uint8(4))


def signatures(texts: Sequence[str], cfg: Frozen) -> list[Signature]:
    """Signatures of many documents at once (the fast path: one matrix per batch)."""
    p = params(cfg)
    cp = _fold_batch(texts, p)
    hv, counts, tok, first, ntok, lengths = _shingles(cp, len(texts), p)
    values = minhash_many(hv, counts, p.num_perm, p.seed)
    bands = band_hashes(values, p.bands, p.rows)
    sketch = pack_sketch(values)
    tokens = memoryview(tok)
    out = []
    per_doc = (first.tolist(), ntok.tolist(), counts.tolist(), lengths.tolist())
    for t, v, b, sk, f, n, c, length in zip(texts, values, bands, sketch, *per_doc, strict=True):
        if n:
            # The token sequence is the matching view: equal sequences, equal hashes.
            ex = xxhash.xxh3_64_intdigest(tokens[f : f + n])
        else:
            # No letter or digit at all: hash the raw text, so that documents of
            # punctuation alone do not all count as one.
            ex = xxhash.xxh3_64_intdigest(b"\x00raw\x00" + t.encode("utf-8", "surrogatepass"))
        out.append(Signature(v, b, sk, ex, c, length))
    return out


def signature(text: str, cfg: Frozen) -> Signature:
    """The dedup fingerprint of one cleaned document (pure; runs in worker processes).

    The document's own text is not changed; a folded copy is shingled:

    >>> cfg = load_config()["dedup"]
    >>> a = signature("會(huì)議明確了今年要重點抓好的幾方面工作", cfg)
    >>> a.exact == signature("会议明确了今年要重点抓好的几方面工作。", cfg).exact
    True
    """
    return _signature_one(text, params(cfg))


def _signature_one(text: str, p: Params) -> Signature:
    """:func:`signatures` for one document, without the cross-document bookkeeping: about
    half the numpy calls, which is what a short document's time goes to. Must give exactly
    the batch path's result (a property test holds it to that)."""
    work = text
    if p.strip_pinyin and ("(" in work or "（" in work):
        work = _PINYIN_RE.sub("", work)
    cp = _encode1(work)
    low = np.where(cp < _TABLE_SIZE, cp, 0)
    word, slow = _fold_tables()
    if p.to_simplified:
        converter, t2s = _t2s()
        if t2s[low].any():
            work = converter.convert(work)
            cp = _encode1(work)
            low = np.where(cp < _TABLE_SIZE, cp, 0)
    if slow[low].any():
        work = unicodedata.normalize("NFKC", work).casefold()
        cp = _encode1(work)
    cp = cp.copy()
    cp[(cp >= 0x41) & (cp <= 0x5A)] += 32
    cp[(cp >= 0xFF01) & (cp <= 0xFF5E)] -= 0xFEE0
    cp[(cp >= 0x41) & (cp <= 0x5A)] += 32
    inside = cp < _TABLE_SIZE
    isword = np.where(inside, word[np.where(inside, cp, 0)], cp < 0xE0000)
    length = int(np.count_nonzero(isword))
    a, b = permutations(p.num_perm, p.seed)
    if length == 0:
        values = np.full((1, p.num_perm), _MAX32, dtype=_U32)
        exact = xxhash.xxh3_64_intdigest(b"\x00raw\x00" + text.encode("utf-8", "surrogatepass"))
        return _finish_one(values, p, exact, 0, 0)
    ideo = cp >= _IDEOGRAPHIC_START
    wordc = isword & ~ideo
    prev_word = np.empty_like(wordc)
    prev_word[0] = False
    prev_word[1:] = wordc[:-1]
    start = isword & (ideo | ~prev_word)
    kcp = cp[isword]
    kstart = start[isword]
    g = fmix64(kcp.astype(_U64) + _U64(0x632BE59BD9B4E019))
    if kstart.all():
        tok = g  # every token is one character (the usual case for Chinese)
    else:
        kpos = np.arange(kcp.size)
        starts = np.flatnonzero(kstart)
        offset = kpos - np.maximum.accumulate(np.where(kstart, kpos, 0))
        powers = np.cumprod(np.full(int(offset.max()) + 1, _MUL_TOKEN, dtype=_U64))
        powers = np.concatenate(([_U64(1)], powers[:-1]))
        tok = np.add.reduceat(g * powers[offset], starts)
    ntok = len(tok)
    nideo = int(np.count_nonzero(kcp[kstart] >= _IDEOGRAPHIC_START))
    size = p.shingle_size if nideo >= p.ideographic_share * ntok else p.word_shingle_size
    win = min(size, ntok)
    count = ntok - win + 1
    h = np.zeros(count, dtype=_U64)
    for j in range(win):
        h += tok[j : j + count] * _power(_MUL_SHINGLE, j)
    hv = (fmix64(h ^ _U64(win)) >> _U64(32)).astype(_U32)
    mixed = fmix32(hv)
    values = np.full(p.num_perm, _MAX32, dtype=_U32)
    col_a, col_b = a[:, None], b[:, None]
    for s in range(0, count, _CHUNK_ROWS):
        m = col_a * mixed[None, s : s + _CHUNK_ROWS]
        m += col_b
        np.minimum(values, m.min(axis=1), out=values)
    exact = xxhash.xxh3_64_intdigest(tok.tobytes())
    return _finish_one(values[None, :], p, exact, count, length)


def _finish_one(values: np.ndarray, p: Params, exact: int, count: int, length: int) -> Signature:
    return Signature(
        values[0],
        band_hashes(values, p.bands, p.rows)[0],
        pack_sketch(values)[0],
        exact,
        count,
        length,
    )


def _encode1(text: str) -> np.ndarray:
    return np.frombuffer(
        text.replace("\x00", " ").encode("utf-32-le", "surrogatepass"), dtype="<u4"
    )
