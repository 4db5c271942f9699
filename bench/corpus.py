"""A deterministic synthetic corpus shaped like scraped government and news pages.

Sentences come from the seed documents in sample_data/ and are recombined; each page gets a
site's header and footer lines. A share of pages is Traditional script (OpenCC s2t), a share
is GBK-encoded, and a share are near-duplicates (a few characters edited) of earlier pages.
No network, same bytes for the same arguments.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import opencc

ROOT = Path(__file__).resolve().parent.parent
SITES = [
    (
        "政务邮箱 |邮件订阅 |业务系统 |无障碍通道 |English | 繁體版",
        "当前位置: 首页 > 政务公开 > 通知公告",
        "版权所有：{site}人民政府办公室  京ICP备{n}号  京公网安备{n}号",
    ),
    (
        "首页 | 新闻 | 财经 | 科技 | 评论 | 图片",
        "您的位置：首页 > 新闻中心",
        "Copyright © 2021 {site}新闻网 All rights reserved. 网站标识码{n}",
    ),
    (
        "网站首页 | 机构概况 | 政策法规 | 办事服务 | 互动交流",
        "当前位置：首页 >> 工作动态",
        "主办单位：{site}通信管理局  ICP备案号：{n}  打印本页 关闭窗口",
    ),
]
VERSION = 2  # of the generator: a cached corpus of another version is generated again
PLACES = ["肇庆", "安康", "山西", "河北", "福建", "甘肃", "重庆", "沈阳", "杭州", "成都"]


def sentences() -> list[str]:
    """The seeds' sentences, all Simplified: two seeds are Traditional pages, and a page mixing
    both scripts would make every page a Traditional one (pages are made Traditional whole)."""
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "sample_data").glob("*.txt"))
    )
    text = re.sub(r"\([a-zà-ǜü]{1,6}\)", "", text)  # drop the seeds' pinyin artifacts
    parts = re.split(r"(?<=[。；！？])", text)
    t2s = opencc.OpenCC("t2s")
    out = [t2s.convert(re.sub(r"\s+", "", p)) for p in parts]
    return [s for s in out if 12 <= len(s) <= 300 and not re.search(r"[<>|]", s)]


def generate(n_docs: int, seed: int = 7, mean_chars: int = 650):
    """Yield (relative path, bytes, is_near_duplicate) for ``n_docs`` pages."""
    rng = random.Random(seed)
    pool = sentences()
    s2t = opencc.OpenCC("s2t")
    bodies: list[str] = []
    for i in range(n_docs):
        site_no = rng.randrange(len(SITES))
        nav, crumb, footer = SITES[site_no]
        site = rng.choice(PLACES)
        near = bodies and rng.random() < 0.10
        if near:
            body = list(rng.choice(bodies))
            for _ in range(max(1, len(body) // 80)):
                j = rng.randrange(len(body))
                body[j] = rng.choice("的一是在不了有和人这中大为上个国")
            body_text = "".join(body)
        else:
            paras = []
            size = 0
            while size < mean_chars * rng.uniform(0.5, 1.5):
                para = "".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
                paras.append(para)
                size += len(para)
            body_text = "\n\n".join(paras)
            if len(bodies) < 5000:
                bodies.append(body_text)
        title = rng.choice(pool)[:30]
        page = (
            "\n".join(
                [
                    nav,
                    crumb,
                    f"发布时间：2021-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}  来源：{site}",
                    "",
                    title,
                    "",
                    body_text,
                    "",
                    "【打印本页】【关闭窗口】",
                    footer.format(site=site, n=10000000 + rng.randrange(9 * 10**7)),
                ]
            )
            + "\n"
        )
        if rng.random() < 0.30:
            page = s2t.convert(page)
        data = page.encode("gbk", errors="replace") if rng.random() < 0.05 else page.encode("utf-8")
        yield f"site{site_no}/{i // 1000:03d}/{i:06d}.txt", data, bool(near)


def write_corpus(target: Path, n_docs: int, seed: int = 7) -> tuple[int, int]:
    """Write the corpus under ``target`` (reused if already complete); returns (docs, bytes)."""
    stamp = target / f".complete-{n_docs}-{seed}-v{VERSION}"
    if stamp.exists():
        files = [p for p in target.rglob("*.txt")]
        return len(files), sum(p.stat().st_size for p in files)
    import shutil

    shutil.rmtree(target, ignore_errors=True)
    total = 0
    for rel, data, _ in generate(n_docs, seed):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    stamp.touch()
    return n_docs, total
