"""Tests for the convert stage (cleancorpus/stages/convert.py)."""

from __future__ import annotations

from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleancorpus.config import load_config
from cleancorpus.stages import convert as convert_module
from cleancorpus.stages.convert import convert, needs_conversion

CFG = load_config()["convert"]
SEEDS = sorted((Path(__file__).parent.parent / "sample_data").glob("*.txt"))


def cfg_for(name: str, **more: object):
    return CFG.replace({"config": name, **more})


def test_correct_simplified_passes_unchanged():
    assert convert("慰藉着受伤的心灵", CFG) == ("慰藉着受伤的心灵", {})


def test_default_is_t2s_and_counts_changed_characters():
    out, changes = convert("會議明確了今年的幾方面工作", CFG)
    assert out == "会议明确了今年的几方面工作"
    assert changes == {"convert.t2s": 4}


# Cases from OpenCC's own test suite (BYVoid/OpenCC, test/testcases/testcases.json and
# t2s.in/t2s.ans), for the Traditional-to-Simplified configurations and a few others.
UPSTREAM = [
    (
        "t2s",
        "曾經有一份真誠的愛情放在我面前，我沒有珍惜，等我失去的時候我才後悔莫及。人事間最痛苦的事莫過於此。如果上天能夠給我一個再來一次得機會，我會對那個女孩子說三個字，我愛你。如果非要在這份愛上加個期限，我希望是，一萬年。",
        "曾经有一份真诚的爱情放在我面前，我没有珍惜，等我失去的时候我才后悔莫及。人事间最痛苦的事莫过于此。如果上天能够给我一个再来一次得机会，我会对那个女孩子说三个字，我爱你。如果非要在这份爱上加个期限，我希望是，一万年。",
    ),
    ("t2s", "楊聯陞", "杨联陞"),
    ("t2s", "步步高陞", "步步高升"),
    (
        "t2s",
        "剛構式橋樑 鼻樑 頂樑柱 結樑子 懸樑刺股 偷樑換柱 跳樑小丑 跳樑小醜 棟樑之材 餘音繞樑 梁父吟 梁惠王 穀梁傳 張棟樑 蔣國樑 楊士樑",
        "刚构式桥梁 鼻梁 顶梁柱 结梁子 悬梁刺股 偷梁换柱 跳梁小丑 跳梁小丑 栋梁之材 余音绕梁 梁父吟 梁惠王 谷梁传 张栋梁 蒋国梁 杨士梁",
    ),
    ("t2s", "幺麼小丑 幺麼小醜 小丑丫鬟 小醜丫鬟", "幺麽小丑 幺麽小丑 小丑丫鬟 小丑丫鬟"),
    ("t2s", "賽後復盤 覆盤難照", "赛后复盘 覆盘难照"),
    (
        "t2s",
        "這週複習 週線圖 這周圍 那周邊 若干周邊設備",
        "这周复习 周线图 这周围 那周边 若干周边设备",
    ),
    (
        "t2s",
        "幾週之後 好幾週 第幾週 多少週 多少周邊產品 茶几周圍",
        "几周之后 好几周 第几周 多少周 多少周边产品 茶几周围",
    ),
    ("t2s", "寫一個解算器程式來解決方程式", "写一个解算器程式来解决方程式"),
    ("t2s", "演算法", "演算法"),
    ("t2s", "輝達", "辉达"),
    ("t2s", "攝護腺、憂鬱症、胰臟的醫學術語", "摄护腺、忧郁症、胰脏的医学术语"),
    ("tw2s", "著裝著作汙染虛偽發洩稜柱群眾裡面", "着装著作污染虚伪发泄棱柱群众里面"),
    ("tw2s", "么麼小丑 么麼小醜 小丑丫鬟 小醜丫鬟", "幺麽小丑 幺麽小丑 小丑丫鬟 小丑丫鬟"),
    ("hk2s", "虛偽歎息", "虚伪叹息"),
    ("hk2s", "潮濕灶台", "潮湿灶台"),
    ("hk2s", "讚歎沙河涌洶湧的波浪", "赞叹沙河涌汹涌的波浪"),
    (
        "tw2sp",
        "滑鼠裡面的矽二極體壞了，導致游標解析度降低。",
        "鼠标里面的硅二极管坏了，导致光标分辨率降低。",
    ),
    ("s2t", "太后的头发很干燥。", "太后的頭髮很乾燥。"),
    ("s2t", "我干什么不干你事。", "我幹什麼不干你事。"),
    ("s2tw", "着装污染虚伪发泄棱柱群众里面", "著裝汙染虛偽發洩稜柱群眾裡面"),
    ("s2hk", "虚伪叹息", "虛偽嘆息"),
    ("t2hk", "潮溼的露臺", "潮濕的露台"),
    ("t2tw", "幺麼小丑 幺麼小醜 小丑丫鬟 小醜丫鬟", "么麼小丑 么麼小醜 小丑丫鬟 小醜丫鬟"),
]


@pytest.mark.parametrize(("config", "text", "expected"), UPSTREAM)
def test_opencc_upstream_cases(config, text, expected):
    assert convert(text, cfg_for(config))[0] == expected


def test_none_disables():
    out, changes = convert("會議", cfg_for("none"))
    assert (out, changes) == ("會議", {})


def test_skip_check_passes_simplified_and_catches_traditional():
    simplified = SEEDS[3].read_text(encoding="utf-8")
    assert not needs_conversion(simplified, CFG)
    assert needs_conversion(SEEDS[0].read_text(encoding="utf-8"), CFG)
    # 覆 and 沈 alone are not changed by t2s, but the phrases 回覆 and 沈思 are.
    for text, expected in (("回覆", "回复"), ("沈思", "沉思")):
        assert needs_conversion(text, CFG)
        assert convert(text, CFG)[0] == expected
    assert not needs_conversion("覆盖沈阳", CFG)


def test_skipped_documents_never_reach_the_converter(monkeypatch):
    calls = []
    real = convert_module._converter(CFG)
    fake = convert_module._Converter(
        name=real.name, convert=lambda t: calls.append(t) or real.convert(t), check=real.check
    )
    monkeypatch.setattr(convert_module, "_converter", lambda cfg: fake)
    convert("安慰受伤的心灵", CFG)
    convert(SEEDS[3].read_text(encoding="utf-8"), CFG)
    assert calls == []
    # The check is conservative: 慰藉着 holds the changing phrase 藉着 (借着), though OpenCC's
    # longest match takes 慰藉着 whole and leaves it.
    assert convert("慰藉着受伤的心灵", CFG)[0] == "慰藉着受伤的心灵"
    calls.clear()
    convert("會議", CFG)
    assert calls == ["會議"]


def test_skip_check_off_when_table_does_not_match(monkeypatch):
    monkeypatch.setattr(convert_module.importlib.metadata, "version", lambda name: "0.0.0")
    convert_module._converter.cache_clear()
    try:
        assert convert_module._converter(CFG).check is None
        assert convert("會議", CFG)[0] == "会议"
    finally:
        convert_module._converter.cache_clear()


CONFIGS = ["t2s", "tw2s", "hk2s", "s2t", "s2tw", "s2hk", "t2tw", "t2hk", "s2twp", "tw2sp"]
CHARS = "".join(
    sorted(
        set("".join(p.read_text(encoding="utf-8") for p in SEEDS))
        | set(opencc.OpenCC("s2t").convert("".join(p.read_text(encoding="utf-8") for p in SEEDS)))
        | set("著乾干後后裡里週周麵面髮發臺台灶溼濕説說爲為么麼沈思覆回藉着瞭解甦醒坏土哩衹")
    )
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CONFIGS), st.text(alphabet=CHARS, max_size=40))
def test_skip_check_never_changes_the_result(config, text):
    assert convert(text, cfg_for(config))[0] == opencc.OpenCC(config).convert(text)


@pytest.mark.parametrize("config", CONFIGS)
def test_every_configuration_has_a_skip_table(config):
    assert convert_module._converter(cfg_for(config)).check is not None


def test_seed_traditional_documents_convert():
    for seed in SEEDS[:1] + SEEDS[2:3]:
        out, changes = convert(seed.read_text(encoding="utf-8"), CFG)
        assert changes["convert.t2s"] > 100
        assert not needs_conversion(out, CFG) or convert(out, CFG)[0] == out


def test_never_raises_on_odd_input():
    for config in CONFIGS:
        for text in ["", "\x00", "a\udcff會\ud800議", "𠀀" * 3, "\ufffd", "x" * 10]:
            convert(text, cfg_for(config))
    assert convert("a\udcff會", CFG)[0] == "a\udcff会"


@pytest.mark.parametrize("name", ["t2s", "s2tw", "tw2sp", "s2hk"])
def test_nul_and_lone_surrogates_stay_and_the_text_after_them_is_converted(name):
    """The mmseg configurations (s2tw, tw2sp, s2hk...) dropped everything after a NUL."""
    text = "汉字\x00abc漢字後面\ud800會議与后面"
    expected = "\x00".join(
        "\ud800".join(opencc.OpenCC(name).convert(p) for p in part.split("\ud800"))
        for part in text.split("\x00")
    )
    assert convert(text, cfg_for(name))[0] == expected
    assert "abc" in expected


def test_a_configuration_file_of_ones_own_is_taken_by_path(tmp_path):
    import shutil

    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    if not (share / "s2tw.json").exists():
        pytest.skip("the binding ships its configurations elsewhere")
    mine = tmp_path / "mine"
    shutil.copytree(share, mine)
    out, changes = convert("汉字后面", cfg_for(str(mine / "s2tw.json")))
    assert out == "漢字後面"
    assert changes == {"convert.s2tw": 2}


@pytest.mark.parametrize("to", ["nonsense", "/no/such/dir/x.json"])
def test_a_configuration_opencc_cannot_load_is_a_usage_error(run, tmp_path, to):
    src = tmp_path / "a.txt"
    src.write_text("汉字后面\n", encoding="utf-8")
    result = run("convert", "--to", to, src)
    assert result.exit_code == 2
    assert "OpenCC cannot load it" in result.stderr
    assert result.stdout == ""
