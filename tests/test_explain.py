from __future__ import annotations

from conftest import SAMPLE

PAGE = (
    "首页 | 新闻 | 财经 | 科技 | 评论 | 图片\n"
    "当前位置：首页 > 新闻中心\n"
    "工業和信息化部召開全國信息通信監管工作座談會(huì)，總結今年以來工作，分析面臨形勢，推進各項年度目標任務落實。\n"
    "版权所有：某某新闻网 京ICP备12345678号\n"
)


def test_explain_names_each_stage_and_rule(run, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    result = run("explain", page)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for stage in ("decode", "fix", "convert", "strip"):
        assert stage in out
    assert "fix.pinyin" in out  # the artifact 會(huì) and the repair that removed it
    assert "convert.t2s" in out
    assert "当前位置" in out and "版权所有" in out  # removed lines are shown ...
    assert out.count("strip.") >= 2  # ... each with the rule that removed it


def test_explain_reports_errors(run, tmp_path):
    page = tmp_path / "b.bin"
    page.write_bytes(bytes(range(256)) * 4)
    result = run("explain", page)
    assert result.exit_code == 0
    assert "error" in result.stdout and "binary" in result.stdout


def test_explain_a_seed(run):
    result = run("explain", next(SAMPLE.glob("002_*.txt")))
    assert result.exit_code == 0
    assert "strip.copyright" in result.stdout
