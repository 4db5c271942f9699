"""cleancorpus check: thresholds (passing and failing), formats, report schema, index, HTML."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cleancorpus import check as check_mod
from cleancorpus.check import Collector, github_lines, schema, validate
from cleancorpus.config import load_config
from cleancorpus.document import DUPLICATE, EMPTY, ERROR, Document
from cleancorpus.html_report import render
from cleancorpus.report import Stats
from conftest import ROOT, SAMPLE

_HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"


def body(seed: int, sentences: int = 6) -> str:
    """A distinct Chinese paragraph text (random characters: no two seeds are near-duplicates)."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = ["".join(rng.choice(_HANZI) for _ in range(rng.randint(4, 9))) for _ in range(4)]
        out.append("，".join(words) + "。")
    return "\n".join(out) + "\n"


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def report_of(result) -> dict:
    return json.loads(result.stdout)


@pytest.fixture
def dump(tmp_path):
    """Eight documents: five distinct, one exact duplicate, one binary (error), one empty."""
    files: dict[str, bytes | str] = {f"doc{i}.txt": body(i) for i in range(5)}
    files["copy/doc0.txt"] = body(0)
    files["broken.bin"] = b"\x00\x01\x02\x03" * 200
    files["blank.txt"] = b""
    return write_tree(tmp_path / "dump", files)


# ---------------------------------------------------------------------------------------------
# Thresholds through the CLI, each passing and failing


def test_defaults_never_fail(run, dump):
    result = run("check", dump)
    assert result.exit_code == 0, result.stderr
    report = report_of(result)  # json is the default when stdout is not a terminal
    assert report["passed"] is True and report["violations"] == []
    assert report["documents"] == 8
    assert report["status"]["error"] == 1 and report["status"]["empty"] == 1


def test_error_rate(run, dump):
    ok = run("check", dump, "--max-error-rate", "0.125")
    assert ok.exit_code == 0, ok.stderr
    bad = run("check", dump, "--max-error-rate", "0.1")
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines() == ["error rate 12.5% > 10.0%"]
    assert report_of(bad)["violations"][0]["metric"] == "error_rate"


def test_empty_rate(run, dump):
    assert run("check", dump, "--max-empty-rate", "0.125").exit_code == 0
    bad = run("check", dump, "--max-empty-rate", "0.12")
    assert bad.exit_code == 1
    assert "empty rate 12.5% > 12.0%" in bad.stderr


def test_dup_rate(run, dump):
    ok = run("check", dump, "--max-dup-rate", "0.125")
    assert ok.exit_code == 0, ok.stderr
    assert report_of(ok)["duplicates"]["within_dump"] == 1
    bad = run("check", dump, "--max-dup-rate", "0.05")
    assert bad.exit_code == 1
    assert "dup rate 12.5% > 5.0%" in bad.stderr


def test_min_docs(run, dump):
    assert run("check", dump, "--min-docs", "8").exit_code == 0
    bad = run("check", dump, "--min-docs", "9")
    assert bad.exit_code == 1
    assert "documents 8 < 9" in bad.stderr


def test_mojibake_rate_counts_configured_damage(run, dump, tmp_path):
    # Damage is whatever [check] damage_changes names; decode's truncation count is always
    # there, so the threshold logic is tested independently of the fix stage.
    write_tree(dump, {"cut.txt": body(9).encode("utf-8") + "会".encode()[:2]})
    conf = tmp_path / "c.toml"
    conf.write_text('[check]\ndamage_changes = ["decode.truncated"]\n', encoding="utf-8")
    ok = run("check", dump, "--config", conf, "--max-mojibake-rate", "0.2")
    assert ok.exit_code == 0, ok.stderr
    report = report_of(ok)
    assert report["damage"]["documents"] == 1
    assert report["damage"]["most_damaged"][0]["id"] == "cut.txt"
    bad = run("check", dump, "--config", conf, "--max-mojibake-rate", "0.1")
    assert bad.exit_code == 1
    assert "mojibake rate 11.1% > 10.0%" in bad.stderr


def test_mojibake_rate_with_unrepairable_text(run, tmp_path):
    src = write_tree(
        tmp_path / "d", {"a.txt": body(1), "b.txt": body(2).replace("。", "锟斤拷。", 1)}
    )
    result = run("check", src, "--max-mojibake-rate", "0.4")
    assert result.exit_code == 1
    assert "mojibake rate 50.0% > 40.0%" in result.stderr
    assert report_of(result)["damage"]["most_damaged"][0]["id"] == "b.txt"


def test_boilerplate_rate(run, tmp_path):
    text = (
        "首页 | 新闻 | 政务公开 | 互动交流\n"
        + body(3)
        + "版权所有：某某市人民政府办公室\n京ICP备11041399号\n"
    )
    src = write_tree(tmp_path / "d", {"a.txt": text, "b.txt": body(4)})
    report = report_of(run("check", src))
    bp = report["boilerplate"]
    assert bp["removed_lines"] >= 2
    rate = report["rates"]["boilerplate"]
    assert rate == pytest.approx(
        bp["removed_lines"] / (bp["removed_lines"] + bp["kept_lines"]), abs=1e-6
    )
    assert run("check", src, "--max-boilerplate-rate", str(rate)).exit_code == 0
    bad = run("check", src, "--max-boilerplate-rate", str(round(rate - 0.01, 4)))
    assert bad.exit_code == 1
    assert bad.stderr.startswith("boilerplate rate ")


def test_thresholds_from_config_and_option_wins(run, dump, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text("[check]\nmax_error_rate = 0.05\nmin_docs = 100\n", encoding="utf-8")
    bad = run("check", dump, "--config", conf)
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines() == ["error rate 12.5% > 5.0%", "documents 8 < 100"]
    assert report_of(bad)["thresholds"]["min_docs"] == 100
    ok = run("check", dump, "--config", conf, "--max-error-rate", "0.5", "--min-docs", "1")
    assert ok.exit_code == 0, ok.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--max-dup-rate", "1.5"],
        ["--max-error-rate", "-0.1"],
        ["--min-docs", "-1"],
        ["--format", "xml"],
        ["--nonsense"],
    ],
)
def test_usage_errors_exit_2(run, dump, args):
    result = run("check", dump, *args)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "toml",
    [
        "[check]\nmax_dup_rate = 2.0\n",
        "[check]\nmax_dup_rat = 0.1\n",
        '[check]\nformat = "xml"\n',
        '[check]\nmin_docs = "3"\n',
    ],
)
def test_bad_check_config_exit_2(run, dump, tmp_path, toml):
    conf = tmp_path / "c.toml"
    conf.write_text(toml, encoding="utf-8")
    result = run("check", dump, "--config", conf)
    assert result.exit_code == 2
    assert "check." in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("section", "option"),
    [
        ("dedup", "--max-dup-rate"),
        ("strip", "--max-boilerplate-rate"),
        ("fix", "--max-mojibake-rate"),
    ],
)
def test_limit_without_its_stage_is_usage_error(run, dump, tmp_path, section, option):
    conf = tmp_path / "c.toml"
    conf.write_text(f"[{section}]\nenabled = false\n", encoding="utf-8")
    result = run("check", dump, "--config", conf, option, "0.5")
    assert result.exit_code == 2
    assert section in result.stderr
    assert run("check", dump, "--config", conf).exit_code == 0  # no limit set: fine


def test_missing_path_is_usage_error(run, tmp_path):
    assert run("check", tmp_path / "nope").exit_code == 2


def test_update_index_without_index_is_usage_error(run, dump):
    result = run("check", dump, "--update-index")
    assert result.exit_code == 2 and "--index" in result.stderr


def test_strict_reports_then_fails_on_errors(run, dump):
    result = run("check", dump, "--strict")
    assert result.exit_code == 1
    assert report_of(result)["passed"] is True  # the report is still complete
    assert "documents are errors (--strict)" in result.stderr  # and the exit 1 says why


# ---------------------------------------------------------------------------------------------
# Formats and files


def test_json_format_matches_schema(run, dump):
    result = run("check", dump, "--format", "json")
    assert result.exit_code == 0
    report = report_of(result)
    assert report["schema"] == "cleancorpus.check/1"
    assert validate(report, schema()) == []


def test_table_format(run, dump):
    result = run("check", dump, "--format", "table", "--max-error-rate", "0.01")
    assert result.exit_code == 1
    out = result.stdout
    assert "FAILED" in out and "error rate" in out and "12.50%" in out
    assert "encodings" in out and "utf-8" in out
    assert not out.lstrip().startswith("{")
    ok = run("check", dump, "--format", "table")
    assert "passed" in ok.stdout


def test_format_default_from_config(run, dump, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('[check]\nformat = "github"\n', encoding="utf-8")
    result = run("check", dump, "--config", conf)
    assert result.stdout.startswith("::")


def test_github_format_names_offending_documents(run, dump):
    result = run("check", dump, "--format", "github", "--max-error-rate", "0.01")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert all(line.startswith("::") for line in lines)
    assert lines[0] == "::error title=cleancorpus check::error rate 12.5%25 > 1.0%25"
    broken = [line for line in lines if "broken.bin" in line]
    assert broken and broken[0].startswith("::error file=") and "binary" in broken[0]
    empty = [line for line in lines if "blank.txt" in line]
    assert empty and empty[0].startswith("::warning file=")  # its threshold did not fail
    assert lines[-1].startswith("::notice ")


def test_github_escaping():
    report = {
        "violations": [],
        "errors": [{"id": "a,b:c%.txt", "path": "d/a,b:c%.txt", "error": "bad\nline"}],
        "empty": [],
        "damage": {"most_damaged": []},
        "duplicates": {"within_dump_matches": [], "history_matches": []},
        "rates": dict.fromkeys(["dup", "error", "mojibake", "empty", "boilerplate"], 0.0),
        "documents": 1,
        "passed": True,
    }
    line = github_lines(report, 10)[0]
    assert line.startswith("::warning file=d/a%2Cb%3Ac%25.txt,title=cleancorpus%3A error::")
    assert "bad%0Aline" in line and "\n" not in line


def test_report_file_written_whatever_the_format(run, dump, tmp_path):
    out = tmp_path / "r.json"
    result = run("check", dump, "--format", "table", "--report", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert validate(report, schema()) == []
    assert report["documents"] == 8


def test_report_file_unwritable_is_usage_error(run, dump, tmp_path):
    result = run("check", dump, "--report", tmp_path / "no" / "such" / "dir" / "r.json")
    assert result.exit_code == 2


def test_nothing_written_but_reports(run, dump, tmp_path):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert run("check", dump).exit_code == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_report_independent_of_worker_count(run, dump):
    one, two = (report_of(run("check", dump, "-j", j)) for j in ("1", "2"))
    one.pop("throughput")
    two.pop("throughput")
    assert one == two


def test_stdin_json_lines(run):
    records = [
        {"id": f"r{i}", "text": body(i), "url": f"https://example.gov.cn/{i}"} for i in range(3)
    ]
    records.append({"id": "r9", "text": body(0)})
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    result = run("check", "-", "--min-docs", "4", input=data)
    assert result.exit_code == 0, result.stderr
    report = report_of(result)
    assert report["documents"] == 4 and report["inputs"] == ["-"]
    assert report["duplicates"]["within_dump_matches"] == [
        {"id": "r9", "path": None, "duplicate_of": "r0"}
    ]


# ---------------------------------------------------------------------------------------------
# History: the index of earlier dumps


def test_index_separates_history_and_is_left_unchanged(run, tmp_path):
    old = write_tree(tmp_path / "old", {"o1.txt": body(1), "o2.txt": body(2)})
    index = tmp_path / "seen.npz"
    assert run("clean", old, "-o", tmp_path / "out", "--index", index, "-q").exit_code == 0
    saved = index.read_bytes()
    new = write_tree(
        tmp_path / "new",
        {"n1.txt": body(1), "n2.txt": body(20), "n3.txt": body(20), "n4.txt": body(21)},
    )
    for _ in range(2):  # a second run sees the same history: check did not add the dump
        result = run("check", new, "--index", index, "--max-dup-rate", "0.3")
        assert result.exit_code == 1, result.stderr
        dup = report_of(result)["duplicates"]
        assert (dup["within_dump"], dup["history"], dup["total"]) == (1, 1, 2)
        assert dup["index"] == str(index)
        assert dup["history_matches"] == [
            {"id": "n1.txt", "path": str(new / "n1.txt"), "duplicate_of": "o1.txt"}
        ]
        assert [c["id"] for c in dup["largest_clusters"]] == ["n2.txt"]
        assert report_of(result)["rates"]["dup_history"] == 0.25
        assert index.read_bytes() == saved
    updated = run("check", new, "--index", index, "--update-index")
    assert updated.exit_code == 0
    assert index.read_bytes() != saved
    again = report_of(run("check", new, "--index", index))
    assert again["duplicates"]["history"] == 4  # n1 matches o1; n3 matches n2, now history too


def test_index_that_does_not_exist_yet_is_not_created(run, dump, tmp_path):
    index = tmp_path / "none.npz"
    assert run("check", dump, "--index", index).exit_code == 0
    assert not index.exists()


def test_redis_index_needs_update_index(run, dump):
    result = run("check", dump, "--index", "redis://localhost:6399/0")
    assert result.exit_code == 2
    assert "--update-index" in result.stderr


# ---------------------------------------------------------------------------------------------
# The collector and the report, without the pipeline


def _doc(i: int, **kw) -> Document:
    changes = Counter(kw.pop("changes", {}))
    return Document(id=f"d{i}", path=f"dump/d{i}.txt", encoding="utf-8", changes=changes, **kw)


def _report(docs: list[Document], **over) -> tuple[dict, Collector]:
    cfg = load_config(overrides={f"check.{k}": v for k, v in over.items()})
    col, stats = Collector(cfg["check"]), Stats()
    for d in docs:
        stats.add(d)
        col.add(d)
    stats.finish()
    return col.report(stats, ["dump"], ["decode"], None), col


def test_boilerplate_rate_definition():
    docs = [
        _doc(1, text="甲\n\n乙\n", changes={"strip.nav": 2, "strip.html": 5, "strip.blank": 1}),
        _doc(2, text="丙\n丁\n", changes={"strip.tail": 4}),
        _doc(3, status=ERROR, error="binary", changes={"strip.tail": 9}),
    ]
    report, _ = _report(docs)
    # removed 2 + 4 (html and blank are not removed lines; errors have no text); kept 4 non-blank
    assert report["boilerplate"] == {"removed_lines": 6, "kept_lines": 4}
    assert report["rates"]["boilerplate"] == 0.6
    assert set(report["rules"]) == {"strip.nav", "strip.html", "strip.blank", "strip.tail"}


def test_most_damaged_ranked_and_bounded():
    docs = [
        _doc(
            i, text="x", changes={"fix.unrepairable": i % 4, "fix.utf8_as_gbk": i, "fix.space": 99}
        )
        for i in range(1, 13)
    ]
    report, _ = _report(docs, top_damaged=3)
    top = report["damage"]["most_damaged"]
    assert [d["id"] for d in top] == ["d11", "d7", "d3"]  # unrepairable 3, then repaired
    assert top[0]["damage"] == 3 and top[0]["repaired"] == 11  # fix.space is not damage
    assert report["damage"]["documents"] == 9
    assert report["rates"]["mojibake"] == 0.75


def test_clusters_history_and_caps():
    docs = [_doc(0, text="甲", cluster="d0")]
    docs += [
        _doc(i, text="甲", status=DUPLICATE, duplicate_of="d0", cluster="d0") for i in range(1, 30)
    ]
    docs += [
        _doc(40, text="乙", cluster="d40"),
        _doc(41, text="乙", status=DUPLICATE, duplicate_of="d40", cluster="d40"),
    ]
    docs += [
        _doc(
            50,
            text="丙",
            status=DUPLICATE,
            duplicate_of="old",
            cluster="old",
            changes={"dedup.historical": 1},
        )
    ]
    docs += [_doc(60, text="", status=EMPTY)]
    report, _ = _report(docs, cluster_ids=5, listed_documents=4)
    dup = report["duplicates"]
    assert (dup["total"], dup["within_dump"], dup["history"], dup["clusters"]) == (31, 30, 1, 2)
    big = dup["largest_clusters"][0]
    assert (big["id"], big["size"], big["members_truncated"]) == ("d0", 30, True)
    assert big["members"] == ["d0", "d1", "d2", "d3", "d4"]
    assert len(dup["within_dump_matches"]) == 4
    assert dup["history_matches"] == [{"id": "d50", "path": "dump/d50.txt", "duplicate_of": "old"}]
    assert report["empty"] == [{"id": "d60", "path": "dump/d60.txt"}]
    assert validate(report, schema()) == []


def test_html_pool_is_bounded_and_keeps_late_growing_clusters():
    docs = []
    for c in range(200):  # 200 clusters of 2; cluster 150 grows to 5 late, after its eviction
        docs.append(_doc(1000 + c, text=f"正文{c}", cluster=f"k{c}"))
        docs.append(_doc(2000 + c, text=f"正文{c}", status=DUPLICATE, cluster=f"k{c}"))
    for j in range(3):
        docs.append(_doc(3000 + j, text=f"正文150改{j}", status=DUPLICATE, cluster="k150"))
    report, col = _report(docs, html_pool=10, html_clusters=2)
    assert len(col.pool) <= 10
    shown = col.cluster_texts(report)
    assert [c["id"] for c in shown] == ["k150", "k0"] and shown[0]["size"] == 5
    # Re-entered with its later members: still two near-duplicate texts of the cluster.
    assert [t for _, t in shown[0]["texts"]] == ["正文150改0", "正文150改1"]


def test_html_pair_prefers_a_member_that_differs():
    docs = [
        _doc(1, text="会议强调落实", cluster="d1"),
        _doc(2, text="会议强调落实", status=DUPLICATE, cluster="d1"),
        _doc(3, text="会议强调落实好", status=DUPLICATE, cluster="d1"),
        _doc(4, text="会议强调落实", status=DUPLICATE, cluster="d1"),
    ]
    report, col = _report(docs, html_max_chars=100)
    assert col.cluster_texts(report)[0]["texts"] == [
        ("d1", "会议强调落实"),
        ("d3", "会议强调落实好"),
    ]
    report, col = _report(docs, html_max_chars=3)  # truncated texts are identical: any pair
    assert col.cluster_texts(report)[0]["texts"] == [("d1", "会议强"), ("d2", "会议强")]


def test_violation_messages_never_print_equal_sides():
    m = check_mod.METRICS[0]
    assert check_mod._violation(m, 0.073, 0.05) == "dup rate 7.3% > 5.0%"
    assert check_mod._violation(m, 0.0504, 0.05) == "dup rate 5.04% > 5.00%"


def test_validator_catches_bad_reports():
    report, _ = _report([_doc(1, text="甲")])
    s = schema()
    assert validate(report, s) == []
    bad = json.loads(json.dumps(report))
    bad["schema"] = "cleancorpus.check/2"
    del bad["rates"]["dup"]
    bad["status"]["kept"] = -1
    bad["extra"] = 1
    bad["duplicates"]["index"] = 3
    errors = validate(bad, s)
    assert any("$.schema" in e for e in errors)
    assert any("$.rates" in e and "'dup'" in e for e in errors)
    assert any("$.status.kept" in e for e in errors)
    assert any("'extra'" in e for e in errors)
    assert any("$.duplicates.index" in e for e in errors)


# ---------------------------------------------------------------------------------------------
# The console script on the seeds, and the HTML report in a real browser


def _console() -> list[str]:
    exe = Path(sys.executable).parent / "cleancorpus"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cleancorpus"]


def test_console_script_on_sample_data_matches_schema(tmp_path):
    proc = subprocess.run(
        [
            *_console(),
            "check",
            "sample_data/",
            "--format",
            "json",
            "--report",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    report = json.loads(proc.stdout)
    assert validate(report, schema()) == []
    assert report["documents"] >= len(list(SAMPLE.glob("*.txt")))
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == report


def test_console_script_exit_codes(tmp_path):
    src = write_tree(tmp_path / "d", {"a.txt": body(1), "b.bin": b"\x00" * 300})
    failed = subprocess.run(
        [*_console(), "check", str(src), "--max-error-rate", "0.2"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1
    assert failed.stderr.decode().strip() == "error rate 50.0% > 20.0%"
    usage = subprocess.run(
        [*_console(), "check", str(src), "--max-error-rate", "2"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert usage.returncode == 2 and b"Traceback" not in usage.stderr


def _html_report(run, tmp_path) -> Path:
    src = write_tree(tmp_path / "d", {"a.txt": body(1), "b.txt": body(2), "c.bin": b"\x00" * 300})
    base = body(5, sentences=12)
    edited = base.replace("。", "！", 1)
    write_tree(src, {"n1.txt": base, "n2.txt": edited, "n3.txt": base})
    html = tmp_path / "report.html"
    result = run("check", src, "--html", html, "--max-error-rate", "0.1")
    assert result.exit_code == 1
    return html


def test_html_report_is_self_contained(run, tmp_path):
    page = _html_report(run, tmp_path).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for needle in (
        "<svg",
        "encodings",
        "repairs",
        "boilerplate rules",
        "error rate 16.7% &gt; 10.0%",
    ):
        assert needle in page
    lowered = page.lower()
    for external in ("<script", "<link", "src=", "href=", "@import", "url("):
        assert external not in lowered
    assert "n1.txt" in page and ("<del>" in page or "<ins>" in page)


def test_html_render_escapes_text():
    report, col = _report(
        [
            _doc(1, text="<b>甲</b>&", cluster="d1"),
            _doc(2, text="<b>乙</b>&", status=DUPLICATE, duplicate_of="d1", cluster="d1"),
        ]
    )
    page = render(report, col.cluster_texts(report))
    assert "<b>" not in page and "&lt;b&gt;" in page and "<del>甲</del>" in page


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_html_report_renders_in_headless_chromium(run, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no chromium is installed (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    html = _html_report(run, tmp_path)
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1200  # IHDR width
    # A blank page compresses to a few KB; text, tables and charts do not.
    assert len(data) > 20_000
