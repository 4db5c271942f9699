"""Tests for the strip stage: rules as data, zones, template lines, explain, goldens."""

from __future__ import annotations

import importlib.util
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleancorpus.config import ConfigError, load_config
from cleancorpus.stages.strip import RuleError, explain, line_keys, load_rules, strip

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "strip"
GOLDEN = ROOT / "tests" / "golden"
SEEDS = sorted((ROOT / "sample_data").glob("*.txt"))
FIXTURE_NAMES = sorted(p.name[: -len(".in.txt")] for p in FIXTURES.glob("*.in.txt"))

CFG = load_config()["strip"]

BODY = "会议强调，要把各项工作落到实处，确保取得实效，推动全市经济社会高质量发展迈上新台阶。"


def _with(**overrides: object):
    return load_config(overrides={f"strip.{k}": v for k, v in overrides.items()})["strip"]


def _kept(text: str, cfg=CFG, template=None) -> str:
    return strip(text, cfg, template or {})[0]


def _rule_of(text: str, line: str, cfg=CFG) -> str | None:
    hits = [rule for ln, rule, _ in explain(text, cfg) if ln.strip() == line]
    assert hits, f"{line!r} not in explain output"
    return hits[0]


# ---- fixtures and goals --------------------------------------------------------------------


def test_at_least_twelve_fixtures():
    assert len(FIXTURE_NAMES) >= 12
    for name in FIXTURE_NAMES:
        assert (FIXTURES / f"{name}.out.txt").is_file(), name


# Fixtures whose expected output is known not to be reached per document, and why. (A site,
# account or author name alone above the title, "某某日报", "张三", used to be here; the zone
# heuristics now catch the shapes the fixtures have: above a nav bar or breadcrumb, repeated
# in the byline, above a follow button. Other shapes are left to the template pass.)
KNOWN_MISSES: dict[str, str] = {
    # "数据来源：某某市市场监督管理局" after the last item is the page's source line, but the same
    # words under a table at the end of a report are the table's note: kept when in doubt.
    "credit_penalty": "数据来源 line after the body: ambiguous with a table note, kept",
    # A service guide of "key：value" lines has no sentence ending in 。: no body, so no zones
    # and no zone heuristics; the site name above the nav bar and the "在线办理" button (also a
    # word a guide's text uses: "办理方式：在线办理") stay.
    "service_guide": "no sentence at all: no zones, site name and 在线办理 kept",
    # Section labels and account names that nothing ties to furniture: "法院公告" above a
    # register row (a "…公告" line may be a title), "某某发布" above a Weibo byline that does not
    # repeat it, a register's "名称：…" row (the same key is body in a procurement notice).
    "court_notice": "section label 法院公告 kept (…公告 may be a title)",
    "weibo_post": "account name above a byline that does not repeat it",
    "plan_disclosure": "register row 名称：… kept (名称： is body in other notices)",
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[n]))
        if n in KNOWN_MISSES
        else n
        for n in FIXTURE_NAMES
    ],
)
def test_fixture(name):
    page = (FIXTURES / f"{name}.in.txt").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{name}.out.txt").read_text(encoding="utf-8")
    assert _kept(page) == expected


def _report_module():
    spec = importlib.util.spec_from_file_location(
        "strip_report", ROOT / "bench" / "strip_report.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_goals():
    report = _report_module().fixture_scores(CFG)
    assert report["totals"]["boilerplate"] >= 100
    assert report["removed_ratio"] >= 0.95
    assert report["kept_ratio"] >= 0.995


def test_report_counts_a_missed_footer_and_a_lost_paragraph():
    score = _report_module().score
    page = "网站首页 | 关于我们 | 联系我们\n" + BODY + "\n京ICP备11041399号\n"
    expected = BODY + "\n"
    assert score(page, expected, BODY + "\n京ICP备11041399号\n")["removed"] == 1
    lost = score(page, expected, "")
    assert lost["kept_chars"] == 0 and lost["body_chars"] == len(BODY)


# ---- seeds: golden expectations -------------------------------------------------------------

_PINYIN = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")


def _pre_strip(raw: str) -> str:
    """Approximation of decode→fix→convert: pinyin artifacts, t2s, line strip, blank runs."""
    from opencc import OpenCC

    text = OpenCC("t2s").convert(_PINYIN.sub("", raw))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_seed_golden(seed):
    expected = (GOLDEN / f"{seed.stem}.txt").read_text(encoding="utf-8")
    assert _kept(_pre_strip(seed.read_text(encoding="utf-8"))) == expected


def test_golden_notes_cover_every_seed():
    notes = (GOLDEN / "NOTES.md").read_text(encoding="utf-8")
    for seed in SEEDS:
        assert seed.stem in notes


def test_seed_body_safety():
    seed4 = _pre_strip((ROOT / "sample_data" / "004_2094dfdd9b72f696.txt").read_text("utf-8"))
    assert "健全知识产权侵权查处机制" in _kept(seed4)
    seed2 = _pre_strip((ROOT / "sample_data" / "002_8a6ffa770e45669e.txt").read_text("utf-8"))
    out, changes = strip(seed2, CFG)
    assert "版权及免责声明" not in out and "延伸阅读" not in out and "ICP备" not in out
    assert changes["strip.copyright"] >= 1 and changes["strip.tail"] >= 1


# ---- individual rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("政务邮箱 |邮件订阅 |业务系统 |无障碍通道 |English | 繁体版", "strip.nav"),
        ("首页｜新闻｜政务公开｜办事服务", "strip.nav"),
        ("首页  新闻中心  政务公开  办事服务  互动交流", "strip.nav"),
        ("当前位置：首页 > 新闻中心", "strip.breadcrumb"),
        ("您的位置:首页>政务公开", "strip.breadcrumb"),
        ("首页 > 政务公开 > 通知公告", "strip.breadcrumb"),
        ("浏览字体：大 中 小", "strip.widget"),
        ("字号：大 中 小", "strip.widget"),
        ("【打印本页】【关闭窗口】", "strip.widget"),
        ("分享到：", "strip.widget"),
        ("来源：新华社", "strip.metadata"),
        ("来源:新华社", "strip.metadata"),
        ("作者：张三 责任编辑：李四", "strip.metadata"),
        ("发布时间：2023-01-02 10:00", "strip.metadata"),
        ("索引号：123456/2023-001", "strip.metadata"),
        ("文 号：某府〔2023〕1号", "strip.metadata"),
        ("版权所有：某某市人民政府", "strip.copyright"),
        ("Copyright © 2023 Example Inc.", "strip.copyright"),
        ("All rights reserved.", "strip.copyright"),
        ("京ICP备11041399号-2", "strip.licence"),
        ("粤ICP证030173号", "strip.licence"),
        ("京公网安备11010502003583号", "strip.licence"),
        ("网站标识码：4400000001", "strip.licence"),
        ("上一篇：关于某事的通知", "strip.prev_next"),
        ("下一篇:无", "strip.prev_next"),
        ("返回首页", "strip.back_link"),
        ("【返回顶部】", "strip.back_link"),
        ("— 3 —", "strip.page_number"),
        ("- 12 -", "strip.page_number"),
        ("https://www.example.gov.cn/art/2023/1/2/art_1.html", "strip.url"),
        ("[返回首页](https://example.com/) | [下一篇](/b.html)", "strip.markdown_links"),
        ("阅读原文", "strip.wechat"),
        ("长按识别二维码关注我们", "strip.wechat"),
        ("点击上方蓝字关注我们", "strip.wechat"),
    ],
)
def test_rule_removes_at_the_edges(line, rule):
    for text in (f"{line}\n{BODY}\n", f"{BODY}\n{line}\n"):
        assert _rule_of(text, line) == rule
        assert _kept(text) == BODY + "\n"


@pytest.mark.parametrize(
    "line",
    [
        "主送：各县区人民政府。",
        "抄送：市委办公室，市人大常委会办公室。",
        "— 3 —",
        "京ICP备11041399号",
        "版权及免责声明：凡本网所属版权作品，转载时须获得授权并注明来源。",
        "（文章来源：人民邮电报）",
        "[下一篇](/b.html)",
    ],
)
def test_anywhere_rules_act_between_paragraphs(line):
    text = f"{BODY}\n{line}\n{BODY}\n"
    assert _kept(text) == f"{BODY}\n{BODY}\n"


@pytest.mark.parametrize(
    "line",
    [
        "来源：新华社",
        "首页 | 新闻 | 政务公开 | 办事服务",
        "分享到：",
        "主办单位：某某市人民政府办公室",
        "| 指标 | 2022年 | 2023年 |",
        "扫一扫在手机打开当前页",
    ],
)
def test_edge_rules_never_touch_lines_between_paragraphs(line):
    text = f"{BODY}\n{line}\n{BODY}\n"
    assert _kept(text) == text


@pytest.mark.parametrize(
    "sentence",
    [
        "健全知识产权侵权查处机制，提升网络领域知识产权执法维权水平，加强网络文化知识产权保护。",
        "各地要加强版权保护，严厉打击侵犯版权的违法行为，维护权利人的合法权益和市场秩序。",
        "转载他人作品应当注明来源，数据来源于国家统计局公布的年度统计公报和各地上报材料。",
        "办理结果将抄送上级主管部门备案，有关情况可登录http://www.example.gov.cn查询了解。",
        "版权所有权的归属问题一直是本次研讨会关注的焦点，与会专家从多个角度进行了深入讨论。",
    ],
)
def test_running_text_that_mentions_keywords_stays(sentence):
    for text in (f"{sentence}\n", f"{BODY}\n{sentence}\n", f"{sentence}\n{BODY}\n"):
        assert _kept(text) == text


def test_distribution_list_with_continuation_lines():
    text = (
        f"{BODY}\n主送：各县区人民政府。\n抄送：市委办公室，市人大常委会办公室，\n\n"
        "市政协办公室，军分区。\n\n某某市人民政府办公室 2021年7月20日印发\n"
    )
    assert _kept(text) == BODY + "\n"
    # In the header, the list and its wrapped lines go, the title after them stays.
    head = (
        "抄送：市委办公室，市人大常委会办公室，\n市政协办公室。\n关于做好防汛工作的通知\n"
        + BODY
        + "\n"
    )
    assert _kept(head) == "关于做好防汛工作的通知\n" + BODY + "\n"


def test_markdown_table_after_the_last_paragraph_stays():
    table = "| 指标 | 绝对值 | 同比增长 |\n| 地区生产总值 | 5326.8 | 6.1% |\n"
    text = f"{BODY}\n{table}"
    assert _kept(text) == text
    assert _kept(text + "网站地图 | 联系我们 | 网站声明\n") == text


def test_tail_block_removes_the_rest_of_the_footer_only():
    text = f"相关阅读\n{BODY}\n延伸阅读\n某某新闻标题一\n某某新闻标题二\n"
    assert _kept(text) == BODY + "\n"
    middle = f"{BODY}\n相关阅读\n某某新闻标题一\n{BODY}\n"
    assert _kept(middle) == f"{BODY}\n某某新闻标题一\n{BODY}\n"


def test_front_matter_yaml_and_toml():
    for fm in ("---\nlayout: post\ntitle: 标题\n---\n", '+++\ntitle = "标题"\n+++\n'):
        out, changes = strip(fm + BODY + "\n", CFG)
        assert out == BODY + "\n"
        assert changes["strip.front_matter"] == fm.count("\n")
    # A horizontal rule and prose are not front matter.
    prose = "---\n这一段不是元数据，只是分隔线之后的正文内容，作者在这里讲述了自己的经历。\n---\n"
    assert _kept(prose + BODY + "\n") == prose + BODY + "\n"


def test_html_inner_text_stays_and_block_tags_split_lines():
    text = '<p>第一段文字，内容很长，包含了足够多的字符来构成正文段落，保证被识别。</p><p class="x">（文章来源：某报）</p>\n'
    out, changes = strip(text, CFG)
    assert out == "第一段文字，内容很长，包含了足够多的字符来构成正文段落，保证被识别。\n"
    assert changes["strip.html"] == 1
    assert _kept("<p>一是<strong>加强</strong>领导。</p>\n") == "一是加强领导。\n"
    # Autolinks and angle-bracketed titles are not tags.
    assert _kept(f"{BODY}\n据<人民日报>报道，a<b且c>d。\n{BODY}\n").count("<") == 2


@pytest.mark.parametrize(
    "title",
    [
        "把快乐分享到每个角落",
        "作者与读者的对话",
        "中标公告",
        "国务院公报",
        "收藏家的故事",
        "十大新闻评选揭晓",
    ],
)
def test_titles_with_widget_words_stay(title):
    text = f"{title}\n{BODY}\n"
    assert _kept(text) == text


def test_traditional_keywords_without_convert():
    text = f"當前位置：首頁 > 新聞\n{BODY}\n責任編輯：陳某\n延伸閱讀\n某某新聞\n版權所有 © 某某網\n"
    assert _kept(text) == BODY + "\n"


# ---- explain and counters ---------------------------------------------------------------------


def _all_pages() -> list[str]:
    pages = [(FIXTURES / f"{n}.in.txt").read_text(encoding="utf-8") for n in FIXTURE_NAMES]
    return pages + [_pre_strip(p.read_text(encoding="utf-8")) for p in SEEDS]


@pytest.mark.parametrize("index", range(len(FIXTURE_NAMES) + len(SEEDS)))
def test_explain_is_consistent_with_strip(index):
    page = _all_pages()[index]
    out, changes = strip(page, CFG)
    entries = explain(page, CFG)
    kept = [line for line, rule, _ in entries if rule is None]
    assert out.rstrip("\n") == "\n".join(kept).rstrip("\n")
    assert all(reason for _, rule, reason in entries if rule is not None)
    html = Counter(rule for _, rule, _ in entries if rule == "strip.html")
    removed = Counter(
        rule
        for line, rule, _ in entries
        if rule not in (None, "strip.blank", "strip.html") and line.strip()
    )
    assert changes == removed + html
    assert all(key.startswith("strip.") for key in changes)


def test_template_reason_names_the_count():
    line = "某某市人民政府网站欢迎您"
    text = f"{line}\n{BODY}\n"
    key = next(iter(line_keys(line, CFG)))
    entries = explain(text, CFG, {key: 37})
    assert entries[0] == (line, "strip.template", "repeated in 37 documents")


@pytest.mark.parametrize("index", range(len(FIXTURE_NAMES) + len(SEEDS)))
def test_idempotent(index):
    once = _kept(_all_pages()[index])
    assert _kept(once) == once


def test_clean_text_passes_unchanged():
    text = (FIXTURES / "no_boilerplate.in.txt").read_text(encoding="utf-8")
    assert strip(text, CFG) == (text, Counter())
    assert strip("", CFG) == ("", Counter())
    assert strip(BODY, CFG) == (BODY, Counter())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_never_raises(text):
    out, changes = strip(text, CFG)
    assert isinstance(out, str) and all(v > 0 for v in changes.values())
    explain(text, CFG)
    line_keys(text, CFG)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                BODY,
                "",
                "来源：新华社",
                "首页 | 新闻 | 关于",
                "上一篇：某某",
                "<p>",
                "— 2 —",
                "延伸阅读",
                "抄送：某某。",
            ]
        ),
        max_size=12,
    )
)
def test_body_paragraphs_always_survive(lines):
    out = _kept("\n".join(lines))
    assert out.count(BODY) == lines.count(BODY)


# ---- template lines -------------------------------------------------------------------------


def _site_pages(n: int = 50) -> list[tuple[str, list[str]]]:
    rng = random.Random(7)
    header = [
        "某某区人民政府门户网站",
        "网站首页 | 走进某某 | 政务公开 | 政务服务 | 互动交流",
        "无障碍浏览 长者模式",
    ]
    footer = [
        "主办：某某区人民政府办公室 承办：某某区大数据中心",
        "地址：某某路1号 电话：0000-12345678",
        "扫码关注某某发布",
    ]
    verbs = ["推进", "加强", "落实", "部署", "开展", "完善", "提升", "统筹"]
    things = [
        "防汛工作",
        "安全生产",
        "营商环境",
        "乡村振兴",
        "民生实事",
        "基层治理",
        "环境整治",
        "社会保障",
    ]
    pages = []
    for i in range(n):
        body = [f"第{i}号通知：关于{rng.choice(verbs)}{rng.choice(things)}的安排"]
        for j in range(rng.randint(2, 5)):
            body.append(
                f"{i}月{j}日，区里召开会议{rng.choice(verbs)}{rng.choice(things)}工作，要求各部门"
                f"{rng.choice(verbs)}{rng.choice(things)}，确保第{i * 10 + j}项任务按期完成。"
            )
        body.append("一、总体要求")  # a section title shared by every page, inside the body
        body.append(f"各单位要{rng.choice(verbs)}责任，第{i}批工作于本月底前完成，确保取得实效。")
        pages.append(("\n".join(header + body + footer) + "\n", body))
    return pages


@pytest.mark.parametrize("with_rules", [True, False])
def test_template_lines_across_fifty_pages(with_rules):
    cfg = CFG if with_rules else _with(rules_files=[])
    pages = _site_pages()
    counts: Counter[int] = Counter()
    for text, _ in pages:
        counts.update(line_keys(text, cfg))
    template = {k: n for k, n in counts.items() if n >= cfg["template_min_docs"]}
    # The six shared header and footer lines, and the section title "一、总体要求" that every
    # page has inside its body (counted, but kept: template lines go only at the edges).
    assert len(template) == 7
    for text, body in pages:
        out, changes = strip(text, cfg, template)
        assert out == "\n".join(body) + "\n"
        # Six shared lines: with the shipped rules, named rules catch the nav bars and the
        # QR-code line, the template pass the site name, the sponsor line and the contact
        # line (those two rules only act beside furniture, the template pass comes first);
        # without rules, all six by the template pass.
        assert sum(changes.values()) == 6
        assert changes["strip.template"] == (3 if with_rules else 6)


def test_a_cookie_banner_on_top_does_not_make_the_header_an_article():
    page = (
        "我们使用Cookie来改善您的浏览体验。继续浏览本网站即表示您同意我们使用Cookie。\n"
        "接受 了解更多\n网站首页 | 新闻中心 | 政务公开\n首页 > 新闻中心\n"
        f"某某市召开防汛工作会议\n发布时间：2023-05-06 来源：某某日报\n{BODY}\n"
    )
    assert _kept(page) == f"某某市召开防汛工作会议\n{BODY}\n"


@pytest.mark.parametrize(
    "credit", ["英国《金融时报》 马丁·阿诺德 法兰克福报道", "本报记者 张某", "文/李某"]
)
def test_a_short_title_above_a_credit_line_stays(credit):
    # The line right above the dated byline was taken for the title, the title for a menu item.
    page = f"网站首页 | 新闻中心\n降息几成定局\n{credit}\n2024-05-31 08:17 来源：某某网\n{BODY}\n"
    assert _kept(page).startswith("降息几成定局\n")


@pytest.mark.parametrize(
    ("tail", "kept"),
    [
        # An image placeholder no longer cuts the caption below it.
        ("图片\n图为运动会开幕式现场。", "图为运动会开幕式现场。"),
        ("[图片]\n培训现场（记者 王某 摄）", "培训现场（记者 王某 摄）"),
        # A tender notice's 特别声明 is binding text; a platform's disclaimer still goes.
        (
            "特别声明：各有关当事人对中标（成交）结果有异议的，可以在公告期限届满之日起七个工作日内，以书面形式提出质疑。",
            "特别声明：各有关当事人对中标（成交）结果有异议的，可以在公告期限届满之日起七个工作日内，以书面形式提出质疑。",
        ),
        ("特别声明：以上内容为用户上传并发布，本平台仅提供信息存储服务。", None),
    ],
)
def test_captions_and_binding_notes_below_the_body_stay(tail, kept):
    page = f"{BODY}\n{tail}\n"
    assert _kept(page) == f"{BODY}\n" + (f"{kept}\n" if kept else "")


@pytest.mark.parametrize(
    "sponsor",
    [
        "主办单位：广东省生态环境厅\n承办单位：广州市生态环境局",
        "二、主办单位：某某市文化和旅游局",
        "（主办单位：市科协　承办单位：市科技馆）",
    ],
)
def test_an_event_notices_own_sponsors_stay_with_its_signature(sponsor):
    # They were taken for the site footer, and the footer cut took the signature below.
    page = f"{BODY}\n{sponsor}\n广东省生态环境厅\n2024年5月20日\n"
    assert _kept(page) == page
    footer = "主办：某某市人民政府办公室　承办：某某市信息中心\n网站标识码：4400000001\n"
    assert _kept(f"{BODY}\n{footer}") == f"{BODY}\n"  # the site's own still go


def test_a_title_listed_under_other_pages_recommendations_stays():
    # Five other pages of the site list it under 推荐阅读, so it is a template line; right
    # above its own dated byline it is the title, not furniture.
    title = "临澧：春耕备耕正当时"
    own = f"掌上临澧\n{title}\n临澧县融媒体中心 2024-03-16 08:45\n{BODY}\n"
    others = [
        f"掌上临澧\n第{i}期简报\n临澧县融媒体中心 2024-03-1{i} 08:45\n{BODY}\n推荐阅读\n{title}\n"
        for i in range(5)
    ]
    counts: Counter[int] = Counter()
    for text in [own, *others]:
        counts.update(line_keys(text, CFG))
    template = {k: n for k, n in counts.items() if n >= CFG["template_min_docs"]}
    out, _ = strip(own, CFG, template)
    assert out == f"{title}\n{BODY}\n"


def test_template_threshold_and_body_paragraphs():
    text = "某某区人民政府门户网站\n" + BODY + "\n"
    keys = line_keys(text, CFG)
    assert len(keys) == 1  # the paragraph is never a template candidate
    key = next(iter(keys))
    assert _kept(text, template={key: CFG["template_min_docs"] - 1}) == text
    assert _kept(text, template={key: CFG["template_min_docs"]}) == BODY + "\n"


# ---- rule files --------------------------------------------------------------------------------


def _rule_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / "site.toml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_extra_rules_file_adds_a_site_rule(tmp_path):
    path = _rule_file(
        tmp_path,
        '[[rules]]\nname = "mysite"\nkind = "line"\nzone = "edges"\npattern = "^本站温馨提示"\n',
    )
    text = f"{BODY}\n本站温馨提示：请使用新版浏览器\n"
    assert _kept(text) == text
    out, changes = strip(text, _with(extra_rules_files=[path]))
    assert out == BODY + "\n" and changes == Counter({"strip.mysite": 1})


def test_inline_rules_and_disabled_rules(tmp_path):
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(
        '[strip]\ndisabled_rules = ["nav"]\n[[strip.rules]]\nname = "x"\nkind = "line"\n'
        'pattern = "^XYZ$"\n',
        encoding="utf-8",
    )
    cfg = load_config(cfg_file)["strip"]
    text = f"首页 | 新闻 | 关于\n{BODY}\nXYZ\n"
    assert _kept(text, cfg) == f"首页 | 新闻 | 关于\n{BODY}\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[rules]]\nname = "bad"\nkind = "line"\npattern = "(unclosed"\n',
            r"'bad'.*site\.toml.*bad regex",
        ),
        ('[[rules]]\nname = "k"\nkind = "lines"\npattern = "x"\n', r"'k'.*unknown kind 'lines'"),
        (
            '[[rules]]\nname = "z"\nkind = "line"\nzone = "top"\npattern = "x"\n',
            r"'z'.*unknown zone 'top'",
        ),
        ('[[rules]]\nname = "m"\nkind = "line"\n', r"'m'.*missing key 'pattern'"),
        ('[[rules]]\nkind = "line"\npattern = "x"\n', r"'#1'.*missing key 'name'"),
        (
            '[[rules]]\nname = "u"\nkind = "line"\npattern = "x"\nzome = "edges"\n',
            r"'u'.*unknown key 'zome'",
        ),
        (
            '[[rules]]\nname = "c"\nkind = "line"\npattern = "x"\ncontinuation = "["\n',
            r"'c'.*continuation",
        ),
        ("rules = [", r"invalid TOML"),
    ],
)
def test_bad_rule_file_is_a_one_line_error(tmp_path, body, message):
    path = _rule_file(tmp_path, body)
    with pytest.raises(RuleError, match=message) as info:
        strip(BODY, _with(extra_rules_files=[path]))
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ConfigError)


def test_missing_rule_file(tmp_path):
    with pytest.raises(RuleError, match="cannot read rule file"):
        load_rules(_with(extra_rules_files=[str(tmp_path / "nope.toml")]))


def test_every_shipped_rule_is_named_and_valid():
    rules = load_rules(CFG)
    assert len(rules) >= 20
    names = {r.name for r in rules}
    for name in ("strip.nav", "strip.breadcrumb", "strip.copyright", "strip.licence", "strip.tail"):
        assert name in names


# ---- no catastrophic backtracking ---------------------------------------------------------------

_ADVERSARIAL = {
    "char": "会" * 1_000_000,
    "pipes": "|" * 1_000_000,
    "fullwidth_pipes": "｜" * 1_000_000,
    "spaces": " " * 1_000_000,
    "dashes": "-" * 1_000_000,
    "mixed": "首页 | " * 200_000,
    "brackets": "[](" * 300_000,
    "tags": "<p " * 300_000,
}


def _regexes():
    for rule in load_rules(CFG):
        for attr in ("pattern", "continuation", "end", "inner"):
            rx = getattr(rule, attr)
            if rx is not None:
                yield pytest.param(rx, id=f"{rule.name}:{attr}:{rx.pattern[:20]}")


@pytest.mark.timeout(20)
@pytest.mark.parametrize("regex", list(_regexes()))
def test_no_rule_backtracks_catastrophically(regex):
    # Run directly on 1 MB lines, bypassing the max_rule_line_chars guard; a catastrophic
    # pattern would take minutes here, the timeout is generous on purpose.
    for line in _ADVERSARIAL.values():
        regex.search(line)
        regex.sub("", line[:100_000]) if regex.pattern.startswith(
            ("<", "(?i)<", "(?is)<")
        ) else None


@pytest.mark.timeout(30)
def test_user_rules_only_see_lines_up_to_the_limit(tmp_path):
    # (a|aa)+$ is exponential on "aaa…ab"; the max_rule_line_chars guard keeps it off long
    # lines, while short lines still get the rule.
    path = _rule_file(tmp_path, '[[rules]]\nname = "slow"\nkind = "line"\npattern = "^(a|aa)+$"\n')
    cfg = _with(extra_rules_files=[path], max_rule_line_chars=200)
    long_line = "a" * 5000 + "b"
    assert _kept(f"{long_line}\n{BODY}\n", cfg) == f"{long_line}\n{BODY}\n"
    assert _kept(f"aaaa\n{BODY}\n", cfg) == f"{BODY}\n"


@pytest.mark.timeout(60)
def test_strip_on_adversarial_documents():
    for line in _ADVERSARIAL.values():
        strip(line, CFG)
        strip(f"{line}\n{BODY}\n{line[:5000]}\n", CFG)


# ---- mixing pages: body lines from every fixture and seed, boilerplate from every page -------


def _body_and_boilerplate() -> tuple[list[str], list[str], list[str]]:
    """Body paragraphs, and boilerplate lines (removed in their own page) for headers/footers."""
    paragraphs, header, footer = [], [], []
    pairs = [
        (
            (FIXTURES / f"{n}.in.txt").read_text("utf-8"),
            (FIXTURES / f"{n}.out.txt").read_text("utf-8"),
        )
        for n in FIXTURE_NAMES
        if n not in KNOWN_MISSES
    ]
    for page, expected in pairs:
        body = set(expected.splitlines())
        # Paragraphs as strip defines them: long, with sentence punctuation (a long addressee
        # line "各省、自治区…：" is not one, and alone it makes no body).
        sentence = re.compile(CFG["body_sentence_pattern"])
        paragraphs += [ln for ln in expected.splitlines() if len(ln) >= 40 and sentence.search(ln)]
        entries = [(ln, rule, why) for ln, rule, why in explain(page, CFG) if ln.strip()]
        # The header ends at the first paragraph (a title line is body, but a WeChat byline
        # below it is still header furniture).
        in_body = [i for i, (ln, _, _) in enumerate(entries) if ln in body]
        first = next((i for i in in_body if len(entries[i][0]) >= 40), in_body[0])
        for i, (ln, rule, why) in enumerate(entries):
            # Only lines a rule removes by themselves: not block members, list continuations,
            # front matter, tag rewrites or zone-heuristic lines, which depend on neighbours.
            if (
                rule
                not in (
                    None,
                    "strip.html",
                    "strip.front_matter",
                    "strip.header_chrome",
                    "strip.footer_chrome",
                )
                and ln not in body
                and not why.startswith(("in the block", "continues the"))
                and not why.endswith("(the next line matches)")
                and "next to removed line" not in why
            ):
                (header if i < first else footer).append(ln.strip())
    return paragraphs, header, footer


_PARAS, _HEADER, _FOOTER = _body_and_boilerplate()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_HEADER), max_size=6),
    st.lists(st.sampled_from(_PARAS), min_size=1, max_size=6),
    st.lists(st.sampled_from(_FOOTER), max_size=6),
)
def test_mixed_pages_keep_every_paragraph(header, paragraphs, footer):
    out = _kept("\n".join(header + paragraphs + footer) + "\n")
    assert out == "\n".join(paragraphs) + "\n"


# ---- zone heuristics (lines no rule matches) --------------------------------------------------


def test_site_chrome_above_the_last_nav_bar_goes():
    page = f"某某县人民政府门户网站\n今天是2023年10月12日 星期四\n首页 | 政务公开 | 政务服务 | 互动交流\n某某县召开防汛工作会议\n{BODY}\n"
    assert _kept(page) == f"某某县召开防汛工作会议\n{BODY}\n"
    assert _rule_of(page, "某某县人民政府门户网站") == "strip.header_chrome"


@pytest.mark.parametrize(
    "line",
    [
        "打印 | 关闭 | 收藏",  # a widget row that looks like a nav bar
        "来源：市政府 | 发布时间：2023-01-01 | 浏览：12",  # metadata joined by |
        "字体：大 | 中 | 小",
    ],
)
def test_a_title_above_widget_or_metadata_rows_stays(line):
    page = f"某某市召开防汛工作会议\n{line}\n{BODY}\n"
    assert _kept(page) == f"某某市召开防汛工作会议\n{BODY}\n"


@pytest.mark.parametrize("sep", [" | ", "\t"])
def test_a_flattened_table_is_neither_nav_nor_anchor(sep):
    rows = [sep.join(r) for r in (("姓名", "单位", "职务"), ("张三", "某局", "科长"))]
    page = "某某局干部任前公示\n" + "\n".join(rows) + f"\n{BODY}\n"
    assert _kept(page) == page
    tail = f"{BODY}\n" + "\n".join(rows) + "\n某某局\n2023年1月1日\n"
    assert _kept(tail) == tail


def test_furniture_below_the_first_footer_widget_goes():
    page = (
        f"{BODY}\n扫一扫在手机打开当前页\n最高人民法院\n某某省人民政府\n"
        "我上个月刚办的，带房产证和身份证就行，从交费到通气大概二十天。\n"
    )
    # The link list goes; a sentence with a clause (a forum reply, a remark) is spared.
    assert _kept(page) == (
        f"{BODY}\n我上个月刚办的，带房产证和身份证就行，从交费到通气大概二十天。\n"
    )
    assert _rule_of(page, "最高人民法院") == "strip.footer_chrome"


@pytest.mark.parametrize("line", ["http://www.example.gov.cn/bm", "— 3 —"])
def test_a_url_or_page_number_does_not_cut_the_signature(line):
    page = f"{BODY}\n{line}\n联系人：张三\n某某市教育局\n2023年1月1日\n"
    assert _kept(page) == f"{BODY}\n联系人：张三\n某某市教育局\n2023年1月1日\n"


def test_a_closing_sentence_below_furniture_is_not_body():
    page = f"{BODY}\n责任编辑：王某\n本网站由某某市人民政府办公室主办。\n"
    assert _kept(page) == f"{BODY}\n"


def test_latin_header_lines_of_a_chinese_page_go_and_english_pages_keep_theirs():
    page = f"Shenzhen Municipal Commerce Bureau\n深圳市举办跨境电商产业对接会\n{BODY}\n"
    assert _kept(page) == f"深圳市举办跨境电商产业对接会\n{BODY}\n"
    english = (
        "Shanghai expands metro network\n"
        "The city opened three new lines on Saturday, adding 60 kilometres of track, "
        "officials said.\n"
    )
    assert _kept(english) == english
    assert _kept(english, _with(latin_edge_lines=False)) == english


def test_a_long_line_without_chinese_does_not_extend_the_body():
    page = (
        f"{BODY}\n分享到：\n回复 举报\n"
        "GMT+8, 2023-4-14 10:25 , Processed in 0.071 second(s), 28 queries .\n"
    )
    assert _kept(page) == f"{BODY}\n"


def test_forum_floor_label_needs_a_post_stamp_below():
    floor = f"{BODY}\n沙发\n发表于 2023-04-12 21:40 | 只看该作者\n{BODY}\n"
    assert _kept(floor) == f"{BODY}\n{BODY}\n"
    furniture = f"{BODY}\n沙发\n{BODY}\n"  # a word of the body (a list of furniture)
    assert _kept(furniture) == furniture


def test_zone_heuristics_can_be_switched_off():
    cfg = _with(header_anchor_rules=[], footer_cut_rules=[])
    page = f"某某县人民政府门户网站\n首页 | 政务公开 | 政务服务\n{BODY}\n分享到：\n最高人民法院\n"
    assert _kept(page, cfg) == f"某某县人民政府门户网站\n{BODY}\n最高人民法院\n"


def test_a_widget_row_right_above_the_body_is_no_anchor():
    # "缩小字体 放大字体 收藏 微博 微信 分享" looks like a nav bar, but no title lies below it.
    page = f"A股三大指数集体收涨 成交额突破万亿\n缩小字体 放大字体 收藏 微博 微信 分享\n{BODY}\n"
    assert _kept(page) == f"A股三大指数集体收涨 成交额突破万亿\n{BODY}\n"


def test_short_lines_above_a_dated_byline_title_are_chrome():
    page = (
        "某某镇人民政府\n镇情概况\n党建引领\n某某镇召开森林防火工作部署会\n"
        f"作者：党政办  时间：2023-10-30  点击：96\n{BODY}\n"
    )
    assert _kept(page) == f"某某镇召开森林防火工作部署会\n{BODY}\n"
    # Without a dated byline below the title nothing says which line is the title.
    undated = page.replace("作者：党政办  时间：2023-10-30  点击：96\n", "")
    assert _kept(undated) == undated


def test_running_head_next_to_a_page_number():
    title = "某某市2022年国民经济和社会发展统计公报"
    page = f"{title}\n{BODY}\n{title}\n第 1 页\n{BODY}\n"
    assert _kept(page) == f"{title}\n{BODY}\n{BODY}\n"
    assert _rule_of(page, "第 1 页") == "strip.page_number"
    once = f"{title}\n{BODY}\n某某市统计局\n第 1 页\n{BODY}\n"  # not repeated: kept
    assert _kept(once) == f"{title}\n{BODY}\n某某市统计局\n{BODY}\n"


def test_account_and_author_names_by_the_title():
    byline = "2023-05-06 12:03 发布于湖北 某某日报官方账号"
    page = f"某某日报\n{byline}\n关注\n“五一”假期我省接待游客超3000万人次\n{BODY}\n"
    assert _kept(page) == f"“五一”假期我省接待游客超3000万人次\n{BODY}\n"
    assert _rule_of(page, "某某日报") == "strip.header_chrome"
    author = f"如何看待今年高校毕业生就业形势？\n张三\n某某大学 经济学博士\n关注他\n{BODY}\n"
    assert _kept(author) == f"如何看待今年高校毕业生就业形势？\n{BODY}\n"
    # A title repeated in a register line is most of that line: it stays.
    register = f"标题：春耕时节农事忙\n春耕时节农事忙\n{BODY}\n"
    assert _kept(register) == f"春耕时节农事忙\n{BODY}\n"


def test_contact_lines_go_only_beside_furniture():
    contact = "地址：某某市解放路100号 电话：0571-87005678"
    notice = f"{BODY}\n名称：某某招标代理有限公司\n{contact}\n项目联系人：陈某\n"
    assert _kept(notice) == notice
    site = f"{BODY}\n版权所有：某某市人民政府\n{contact}\n"
    assert _kept(site) == f"{BODY}\n"
    assert "next to removed line" in next(w for ln, _, w in explain(site, CFG) if ln == contact)


def test_transcript_speaker_labels_stay():
    page = (
        f"主持人：\n{BODY}\n记者：\n请问下半年在扩大消费方面有哪些举措？\n张某：\n"
        "下半年，我们将继续落实促消费政策，培育壮大新型消费。\n【打印本页】【关闭窗口】\n"
    )
    assert _kept(page) == page.replace("【打印本页】【关闭窗口】\n", "")


def test_empty_register_field_in_the_header_goes():
    page = f"索 引 号：000014672/2022-00871\n主 题 词：\n关于加强监测工作的通知\n{BODY}\n"
    assert _kept(page) == f"关于加强监测工作的通知\n{BODY}\n"


def test_a_page_of_short_lines_still_has_zones():
    page = (
        "当前位置：首页 > 交易信息 > 中标公告\n某某医院设备采购项目中标结果公告\n"
        "一、项目编号：MSCG-2023-0186\n二、中标金额：286.5万元\n"
        "三、公告期限：自本公告发布之日起1个工作日。\n联系人：陈某\n相关公告\n某某医院设备采购项目招标公告\n"
    )
    assert _kept(page) == (
        "某某医院设备采购项目中标结果公告\n一、项目编号：MSCG-2023-0186\n二、中标金额：286.5万元\n"
        "三、公告期限：自本公告发布之日起1个工作日。\n联系人：陈某\n"
    )
    assert _kept(page, _with(body_fallback=False)).endswith("某某医院设备采购项目招标公告\n")


@pytest.mark.parametrize("title", ["文化强国", "图说两会", "摄影作品展开幕"])
def test_titles_that_start_like_a_credit_stay(title):
    assert _kept(f"{title}\n{BODY}\n") == f"{title}\n{BODY}\n"
    assert _kept(f"{title}\n文/李某某\n{BODY}\n") == f"{title}\n{BODY}\n"


def test_a_kicker_above_the_title_is_no_menu_item():
    page = f"——记全国劳动模范张某某\n扎根基层三十年\n发布时间：2023-05-01 来源：市总工会\n{BODY}\n"
    assert _kept(page) == f"——记全国劳动模范张某某\n扎根基层三十年\n{BODY}\n"


@pytest.mark.parametrize(
    "line",
    ["00:00 / 02:35", "倍速", "正在播放", "图片", "[图片]", "本文来自网易号作者某某文旅"],
)
def test_player_controls_placeholders_and_origin_lines_go(line):
    page = f"我市启动城市清洁行动\n{line}\n{BODY}\n{line}\n"
    assert _kept(page) == f"我市启动城市清洁行动\n{BODY}\n"


def test_placeholder_between_paragraphs_goes_but_words_in_sentences_stay():
    page = f"{BODY}\n图片\n{BODY}\n图片显示，大桥主体结构已经完工。\n"
    assert _kept(page) == f"{BODY}\n{BODY}\n图片显示，大桥主体结构已经完工。\n"


def test_an_english_notice_below_furniture_is_not_spared():
    notice = (
        "Notice: The content above is uploaded and posted by a user, which is a social "
        "media platform and only provides information storage services."
    )
    page = f"{BODY}\n特别声明：以上内容为用户上传并发布，本平台仅提供信息存储服务。\n{notice}\n"
    assert _kept(page) == f"{BODY}\n"


@pytest.mark.parametrize("line", ["您当前所在位置：首页 > 办事指南", "您目前的位置：首页 > 新闻"])
def test_breadcrumb_variants(line):
    assert _kept(f"{line}\n某某事项办事指南\n{BODY}\n") == f"某某事项办事指南\n{BODY}\n"


@pytest.mark.timeout(60)
def test_long_runs_for_the_zone_heuristics_stay_linear():
    contact = "地址：某某路1号 电话：0000-12345678\n"
    # A run of "beside" lines under furniture is settled in a few passes, not one per line.
    out, changes = strip("版权所有：某某\n" + contact * 20000 + BODY + "\n", CFG)
    assert out == BODY + "\n" and changes["strip.site_footer"] == 20000
    rows = "\n".join(f"张{i} | 某局 | 科长{i}" for i in range(20000))
    page = "某某局干部任前公示\n" + rows + "\n" + BODY + "\n"
    assert _kept(page) == page


def test_nav_bars_stacked_above_the_title_are_not_a_table():
    # Same number of cells, as in a table; but nothing above them besides a menu word.
    rows = "中国网 | 新闻 | 图片 | 视频\n发布会 | 权威发布 | 政策解读 | 图片直播\n"
    for top in ("", "登录\n"):
        assert (
            _kept(f"{top}{rows}某某市召开防汛工作会议\n{BODY}\n")
            == f"某某市召开防汛工作会议\n{BODY}\n"
        )
        assert _kept(f"{top}{rows}{BODY}\n") == f"{BODY}\n"


def test_attachment_links_and_register_rows_go_but_attachment_lines_stay():
    page = (
        f"公告类型：送达公告  发布日期：2023-08-02\n某某区人民法院公告\n{BODY}\n"
        "附件：门诊共济保障机制改革政策解读.pdf\n某某市教育局\n附件1.docx\n点击下载\n"
    )
    assert _kept(page) == (
        f"某某区人民法院公告\n{BODY}\n附件：门诊共济保障机制改革政策解读.pdf\n某某市教育局\n"
    )


def test_weibo_buttons_and_badges():
    page = f"某某发布\nV\n2023-6-1 10:00 来自 微博 weibo.com\n{BODY}\n转发 12\n评论 30\n赞 99\n收起全文\n"
    assert _kept(page) == f"某某发布\n{BODY}\n"


def test_rule_prefilters_never_change_a_verdict(monkeypatch):
    """The prefilters read each rule's parse tree through Python's private re modules; without
    them (another Python) every rule runs on every line, with the same verdicts."""
    from cleancorpus.stages import strip as strip_mod

    cfg = load_config()["strip"]
    pages = [(FIXTURES / f"{n}.in.txt").read_text(encoding="utf-8") for n in FIXTURE_NAMES]
    with_filters = [explain(page, cfg) for page in pages]
    assert strip_mod._first_chars(re.compile("^当前位置")) is not None
    monkeypatch.setattr(strip_mod, "_sre_parse", None)
    strip_mod._compiled.cache_clear()
    try:
        assert strip_mod._first_chars(re.compile("^当前位置")) is None
        assert [explain(page, cfg) for page in pages] == with_filters
    finally:
        strip_mod._compiled.cache_clear()


def test_a_notices_own_repeated_lines_stay_and_the_sites_furniture_goes():
    """Every notice of an office repeats its salutation, contact line, signature and
    "（此件公开发布）": template lines, but the notice's own. Only those standing in the page's
    furniture go (above the last header line a rule removed, below the first footer one)."""
    topics = ["城镇燃气安全专项检查", "夏季防汛防台工作", "森林防火工作", "食品安全宣传周活动", "安全生产大检查", "校园周边环境整治"]  # fmt: skip
    furniture = ["某某县人民政府门户网站", "首页 | 政务公开 | 政务服务 | 互动交流"]
    own = ["各乡镇人民政府、街道办事处，县政府各部门：", "联系人：县政府办公室 王某某，联系电话：0570-7012345", "某某县人民政府办公室", "（此件公开发布）"]  # fmt: skip
    pages = []
    for i, t in enumerate(topics):
        body = [
            f"某某县人民政府办公室关于开展{t}的通知",
            own[0],
            f"为切实做好{t}，保障人民群众生命财产安全，经县政府同意，决定在全县范围内开展{t}，现将有关事项通知如下。",
            f"一、各地各部门要高度重视，精心组织，明确责任分工，确保{t}各项措施落到实处。",
            own[1],
            own[2],
            f"2023年5月{i + 1}日",
            own[3],
        ]
        footer = ["扫一扫在手机打开当前页", "某某县人民政府网站", "浙ICP备05012345号"]
        pages.append(("\n".join(furniture + body + footer) + "\n", body))
    counts: Counter[int] = Counter()
    for text, _ in pages:
        counts.update(line_keys(text, CFG))
    template = {k: n for k, n in counts.items() if n >= CFG["template_min_docs"]}
    for text, body in pages:
        out, changes = strip(text, CFG, template)
        assert out == "\n".join(body) + "\n"
        assert changes["strip.template"] >= 1  # the site name line, at least


_CLOSING = "会议强调，要把各项工作落到实处，确保取得实效，推动全县经济社会高质量发展迈上新台阶。"


# Wordings from pages of sites the fixtures lack: editorial roles, end markers, disclaimers,
# prompts, share rows, page registers, video leftovers, credits, portal notices. Sentences that
# merely start with such a word stay (rule None).
@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("值班编辑：王某", "strip.metadata"),
        ("一审：李某", "strip.metadata"),
        ("二审 | 张某", "strip.metadata"),
        ("监制：赵某", "strip.metadata"),
        ("编辑 | 李某某", "strip.metadata"),
        ("界面新闻记者 | 张某某", "strip.metadata"),
        ("（完）", "strip.end_marker"),
        ("【全文完】", "strip.end_marker"),
        ("策划方案要求各单位按时上报。", None),
        ("监制单位和生产单位应当加强质量管理。", None),
        ("一审判决认定事实清楚，适用法律正确。", None),
        (
            "本网站所刊载信息，不代表中新社和中新网观点。 刊用本网站稿件，务经书面授权。",
            "strip.copyright",
        ),
        ("暂无评论哦，快来评价一下吧！", "strip.widget"),
        ("扫一扫，用手机看新闻！", "strip.widget"),
        ("分享：微信 微博 QQ空间", "strip.widget"),
        ("参与互动", "strip.widget"),
        ("解读机关：湖北省经济和信息化厅　解读人：王某某", "strip.metadata"),
        ("审理法院：浙江省衢州市中级人民法院", "strip.metadata"),
        ("案　　号：（2023）浙08民终1234号", "strip.metadata"),
        ("这并不代表我们放松了要求。", None),
        ("案由复杂，需要进一步调查。", None),
        ("快来看看这里的变化！", None),
        ("分享经验，共同进步", None),
        ("视频播放位置", "strip.placeholder"),
        ("下载安装Flash播放器", "strip.placeholder"),
        ("（总台记者 张某 李某某）", "strip.source"),
        ("（据新华社）", "strip.source"),
        ("（遂宁市公安局反诈中心供稿）", "strip.source"),
        ("发稿时间：2024-03-18　稿源：反诈中心　访问次数：3410", "strip.metadata"),
        (
            "凡本网注明“来源：某某市人民检察院”的所有作品，版权均属于某某市人民检察院，转载请注明出处。",
            "strip.copyright",
        ),
        ("（一）加强组织领导。", None),
        ("（据统计，全市共有企业1200家）", None),
        ("视频会议在北京召开", None),
        ("凡本单位职工均可报名参加。", None),
        # Third probe: counters, IP location, widget variants, translators, footer keys.
        ("阅读 2356", "strip.metadata"),
        ("0 评论", "strip.metadata"),
        ("阅读 (1256) 点赞 30", "strip.metadata"),
        ("IP属地：北京", "strip.metadata"),
        ("发布于：北京市", "strip.metadata"),
        ("字体：〖 大 中 小 〗", "strip.widget"),
        ("字号：A+ A A-", "strip.widget"),
        ("收藏本文", "strip.widget"),
        ("复制链接", "strip.widget"),
        ("译者：何某", "strip.metadata"),
        ("浏览人次：1024", "strip.metadata"),
        ("隐私权政策 | 使用条款", "strip.site_footer"),
        ("您现在的位置是：首页 / 新闻", "strip.breadcrumb"),
        ("当前位置 Location：首页 Home > 新闻 News", "strip.breadcrumb"),
        ("临澧县融媒体中心 2024-03-12 10:21", "strip.metadata"),
        ("新聞局  2024-04-24 18:30", "strip.metadata"),
        ("更新于2024年5月31日 08:17 AM", "strip.metadata"),
        ("会议于2024年5月31日 08:17召开。", None),
        ("阅读2356本图书是他的目标。", None),
        ("发布于北京的报告指出，经济稳中向好。", None),
        ("收藏本文的读者可在页面下方下载附件。", None),
    ],
)
def test_furniture_wordings_below_the_article(line, rule):
    entries = explain(f"{_CLOSING}\n{_CLOSING}\n{line}\n", CFG)
    assert [r for text, r, _ in entries if text == line] == [rule]


def test_a_widget_row_split_one_piece_per_line_below_the_title_goes():
    body = "新华社西宁1月17日电（记者李某某）凌晨两点，青藏高原的气温已降至零下二十多摄氏度，巡道工们沿着铁轨向前走去。"
    text = "\n".join(
        [
            "（新春走基层）高原铁路线上的“守夜人”",
            "2023-01-18 08:45:10　来源: 新华社",
            "字号",
            "大",
            "中",
            "小",
            "关注新华网",
            "微博",
            "各有关单位：",  # a salutation has punctuation: not a widget piece
            "分享至好友和朋友圈",
            body,
            body,
        ]
    )
    out = _kept(text)
    assert out.split("\n") == ["（新春走基层）高原铁路线上的“守夜人”", "各有关单位：", body, body]


def test_a_short_title_between_breadcrumb_and_metadata_stays():
    body = "本院定于2023年5月18日上午9时00分，在本院第三法庭依法公开开庭审理买卖合同纠纷一案，欢迎社会各界人士旁听。"
    text = (
        "您当前所在位置：首页 > 司法公开 > 开庭公告\n开庭公告\n发布时间：2023-05-09　浏览：268次\n"
    )
    assert _kept(text + body + "\n") == "开庭公告\n" + body + "\n"


def test_a_register_one_cell_per_line_goes_with_its_values_and_the_title_stays():
    body = "本招标项目已由龙游县发展和改革局批准建设，项目业主为龙游县住房和城乡建设局，现对该项目的施工进行公开招标。"
    register = ["信息索引号", "11330825002645123X/2023-00231", "公开方式", "主动公开",
                "发布机构", "龙游县住房和城乡建设局", "生成日期", "2023-05-08"]  # fmt: skip
    title = "龙游县城区老旧小区改造提升工程（二期）施工招标公告"
    text = "\n".join(["当前位置：首页 > 政府信息公开", *register, title, body, body]) + "\n"
    assert _kept(text) == "\n".join([title, body, body]) + "\n"
    reasons = [why for line, rule, why in explain(text, CFG) if line == "主动公开"]
    assert reasons == ["value of the strip.metadata line 4"]


def test_value_lines_must_be_a_non_negative_integer(tmp_path):
    path = _rule_file(
        tmp_path,
        '[[rules]]\nname = "reg"\nkind = "line"\npattern = "^索引号$"\nvalue_lines = -1\n',
    )
    with pytest.raises(RuleError, match="value_lines must be a non-negative integer"):
        load_rules(_with(extra_rules_files=[path]))


def test_a_breadcrumb_with_spaced_separators_and_qzone_in_the_header():
    text = "新华网 > > 正文\n（新春走基层）高原铁路线上的“守夜人”\n2023-01-18 08:45:10 来源: 新华社\nQzone\n"
    assert (
        _kept(text + _CLOSING + "\n") == "（新春走基层）高原铁路线上的“守夜人”\n" + _CLOSING + "\n"
    )


def test_a_paragraph_naming_an_icp_number_stays():
    para = "经查，该网站ICP备案号为京ICP备12345678号，但未按规定办理公安联网备案，现责令限期整改。"
    text = f"{_CLOSING}\n{para}\n{_CLOSING}\n京ICP备11041399号\n"
    assert _kept(text) == f"{_CLOSING}\n{para}\n{_CLOSING}\n"


def test_a_signature_below_the_notices_attachment_files_stays():
    text = (
        f"关于开展安全生产检查的通知\n各有关单位：\n{_CLOSING}\n{_CLOSING}\n附件：\n"
        "1.检查安排表.docx\n2.报名表.xlsx\n某某市发展和改革委员会\n2023年5月6日\n【打印本页】【关闭窗口】\n"
    )
    out = _kept(text)
    assert out.endswith("附件：\n某某市发展和改革委员会\n2023年5月6日\n")


def test_a_long_furniture_sentence_below_the_licence_line_does_not_stretch_the_body():
    tail = "为了获得最佳浏览效果，建议您使用谷歌浏览器、火狐浏览器或者360浏览器极速模式，分辨率1920×1080。"
    text = "\n".join(
        [_CLOSING, _CLOSING, "网站地图 | 联系我们 | 网站声明", "主办单位：某某市人民政府办公厅",
         "京ICP备11041399号", "违法和不良信息举报电话：12345", tail]
    )  # fmt: skip
    assert _kept(text + "\n") == f"{_CLOSING}\n{_CLOSING}\n"


def test_a_short_main_title_above_its_dash_subtitle_stays():
    text = "\n".join(
        ["首页 > 科技 > 正文", "海上发电新突破", "——我国首台16兆瓦海上风电机组并网发电",
         "2023-07-20 09:15 来源：光明日报", _CLOSING, _CLOSING]
    )  # fmt: skip
    assert _kept(text + "\n").startswith("海上发电新突破\n——我国首台16兆瓦海上风电机组并网发电\n")


def test_a_portal_copyright_notice_does_not_bound_the_body():
    notice = (
        "凡本网注明“来源：某某市人民检察院”的所有作品，版权均属于某某市人民检察院，转载请注明出处。"
    )
    text = f"{_CLOSING}\n{_CLOSING}\n责任编辑：李某\n扫一扫在手机打开当前页\n{notice}\n"
    assert _kept(text) == f"{_CLOSING}\n{_CLOSING}\n"


@pytest.mark.parametrize(
    "heading", ["大家都在看", "您可能感兴趣的", "最新文章", "图片推荐", "24小时排行"]
)
def test_more_tail_headings_take_their_link_lists(heading):
    links = "某某县召开防汛工作会议\n某某镇开展安全检查\n"
    assert _kept(f"{_CLOSING}\n{_CLOSING}\n{heading}\n{links}") == f"{_CLOSING}\n{_CLOSING}\n"
