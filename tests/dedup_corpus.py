"""A deterministic generated corpus with known near-duplicate clusters, for dedup tests.

Bodies are built from the real sentences of ``sample_data/*.txt`` (folded to Simplified) mixed
with random sentences drawn from those documents' character distribution. Each original gets
variants of the kinds scraped dumps show: 1-3% character edits, a different site header and
footer, a Traditional rendering (OpenCC s2t), converter pinyin artifacts, truncation by 10%.
Hard negatives: different bodies in one long site template, and pairs sharing 40% of their
sentences. No network; the same seed gives the same corpus.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

_SPLIT_RE = re.compile(r"(?<=[。！？；!?;])|\n+")
_PINYIN_RE = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")
_SYLLABLES = [
    "huì",
    "yì",
    "yù",
    "qī",
    "mù",
    "biāo",
    "chǎn",
    "zī",
    "guò",
    "zhēng",
    "wǎng",
    "luò",
    "fā",
    "zhǎn",
]
_HEADERS = [
    "政务邮箱 |邮件订阅 |业务系统 |无障碍通道 |English | 繁體版\n当前位置: 首页 > 政务公开 > 通知公告",
    "首页 | 机构概况 | 新闻中心 | 政策法规 | 办事服务\n您现在的位置：首页 >> 工作动态 浏览字体：【大 中 小】",
    "网站导航 | 信息公开 | 互动交流\n当前位置：新闻中心 > 地方动态",
    "人民邮电报 > 要闻 > 正文\n发布时间：2021年08月03日 来源：本站",
]
_FOOTERS = [
    "版权所有：某某市人民政府办公室 京ICP备05070218号\n打印本页 关闭窗口",
    "主办单位：某省通信管理局 网站标识码：1300000026 冀公网安备13010802000123号",
    "【打印本页】【关闭窗口】\n上一篇：关于开展专项检查的通知\n下一篇：无",
    "责任编辑：王某 （文章来源：某某日报）\nCopyright © 2018 All Rights Reserved",
]


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


@lru_cache(maxsize=1)
def sample_sentences() -> tuple[str, ...]:
    out: list[str] = []
    for path in sorted(SAMPLE_DIR.glob("00[0-4]_*.txt")):  # the five seeds: a stable corpus
        text = _t2s().convert(_PINYIN_RE.sub("", path.read_text("utf-8", "replace")))
        for s in _SPLIT_RE.split(text):
            s = s.strip()
            if len(s) >= 12 and "<" not in s and "layout" not in s:
                out.append(s)
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _alphabet() -> tuple[str, ...]:
    chars = [c for s in sample_sentences() for c in s if "\u4e00" <= c <= "\u9fff"]
    return tuple(chars)  # with repeats: sampling follows the real character frequencies


def random_sentence(rng: random.Random) -> str:
    alpha = _alphabet()
    n = rng.randint(12, 40)
    body = "".join(rng.choice(alpha) for _ in range(n))
    cut = rng.randint(4, n - 4)
    return body[:cut] + "，" + body[cut:] + "。"


def make_body(rng: random.Random, sentences: int) -> list[str]:
    """A list of sentences: about a third real, the rest random."""
    real = sample_sentences()
    return [
        rng.choice(real) if rng.random() < 0.35 else random_sentence(rng) for _ in range(sentences)
    ]


def join(sentences: list[str], rng: random.Random) -> str:
    paras, cur = [], []
    for s in sentences:
        cur.append(s)
        if rng.random() < 0.3:
            paras.append("".join(cur))
            cur = []
    if cur:
        paras.append("".join(cur))
    return "\n".join(paras)


# ---- variants ------------------------------------------------------------------------------


def char_edits(text: str, rng: random.Random, rate: float) -> str:
    """Edit ``rate`` of the characters, as republished copies differ: short spans (a number,
    a date, a name, a word: 1-6 characters) substituted, deleted or inserted."""
    alpha = _alphabet()
    chars = list(text)
    budget = max(1, round(rate * len(text)))
    while budget > 0:
        span = min(budget, rng.randint(1, 6))
        budget -= span
        i = rng.randrange(len(chars))
        new = [rng.choice(alpha) for _ in range(span)]
        op = rng.random()
        if op < 0.6:
            chars[i : i + span] = new
        elif op < 0.8:
            del chars[i : i + span]
        else:
            chars[i:i] = new
    return "".join(chars)


def with_site(text: str, rng: random.Random) -> str:
    return rng.choice(_HEADERS) + "\n\n" + text + "\n\n" + rng.choice(_FOOTERS)


def traditional(text: str, rng: random.Random) -> str:
    return _s2t().convert(text)


def pinyin_artifacts(text: str, rng: random.Random, rate: float = 0.15) -> str:
    """Traditional script with ``(pinyin)`` after some characters, as broken converters do."""
    out = []
    for c in _s2t().convert(text):
        out.append(c)
        if "\u4e00" <= c <= "\u9fff" and rng.random() < rate:
            out.append("(" + rng.choice(_SYLLABLES) + ")")
    return "".join(out)


def truncated(text: str, rng: random.Random, share: float = 0.1) -> str:
    return text[: int(len(text) * (1 - share))]


@dataclass
class Corpus:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    cluster: list[int] = field(default_factory=list)  # ground truth; -1: no duplicate expected
    kind: list[str] = field(default_factory=list)
    hard_negative: list[int] = field(default_factory=list)  # group of docs that must not merge

    def add(self, doc_id: str, text: str, cluster: int, kind: str, hard: int = -1) -> None:
        self.ids.append(doc_id)
        self.texts.append(text)
        self.cluster.append(cluster)
        self.kind.append(kind)
        self.hard_negative.append(hard)


VARIANTS = ("edits", "site", "traditional", "pinyin", "truncated")


def build(
    seed: int = 7, clusters: int = 60, singletons: int = 80, templates: int = 30, overlaps: int = 30
) -> Corpus:
    """The corpus, shuffled deterministically so that copies are not next to their originals."""
    rng = random.Random(seed)
    docs: list[tuple[str, str, int, str, int]] = []
    for c in range(clusters):
        body = join(make_body(rng, rng.randint(15, 40)), rng)
        docs.append((f"c{c:03d}-orig", body, c, "orig", -1))
        for kind in rng.sample(VARIANTS, rng.randint(2, len(VARIANTS))):
            if kind == "edits":
                text = char_edits(body, rng, rng.uniform(0.01, 0.03))
            else:
                text = {
                    "site": with_site,
                    "traditional": traditional,
                    "pinyin": pinyin_artifacts,
                    "truncated": truncated,
                }[kind](body, rng)
            docs.append((f"c{c:03d}-{kind}", text, c, kind, -1))
    for s in range(singletons):
        docs.append((f"s{s:03d}", join(make_body(rng, rng.randint(5, 30)), rng), -1, "single", -1))
    # Hard negatives 1: one long template (header and footer longer than many bodies).
    head = "\n".join(make_body(rng, 6))
    foot = "\n".join(make_body(rng, 6))
    for t in range(templates):
        body = join(make_body(rng, rng.randint(6, 14)), rng)
        docs.append((f"t{t:03d}", f"{head}\n{body}\n{foot}", -1, "template", 1))
    # Hard negatives 2: pairs sharing 40% of their sentences.
    for o in range(overlaps):
        a = make_body(rng, 20)
        b = a[:8] + make_body(rng, 12)
        rng.shuffle(b)
        docs.append((f"o{o:03d}a", join(a, rng), -1, "overlap", 100 + o))
        docs.append((f"o{o:03d}b", join(b, rng), -1, "overlap", 100 + o))
    rng.shuffle(docs)
    corpus = Corpus()
    for d in docs:
        corpus.add(*d)
    return corpus


def pairwise_scores(truth: list[int], predicted: list[str | None]) -> tuple[float, float, int, int]:
    """Pairwise precision, recall, true pairs, predicted pairs (cluster labels; -1/None: alone)."""
    from collections import defaultdict
    from itertools import combinations

    def pairs(labels):
        groups = defaultdict(list)
        for i, lab in enumerate(labels):
            if lab is not None and lab != -1:
                groups[lab].append(i)
        return {p for g in groups.values() for p in combinations(sorted(g), 2)}

    t, p = pairs(truth), pairs(predicted)
    tp = len(t & p)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(t) if t else 1.0
    return precision, recall, len(t), len(p)
