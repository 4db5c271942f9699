"""The command line through CliRunner: options, outputs, manifest, exit codes, bad input."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SAMPLE, read_jsonl, read_manifest

BASIC = ["pipe", "read", "-i"]  # stage-independent runs: read, decode, write


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
    return root


BODY = "工业和信息化部召开全国信息通信监管工作座谈会，总结今年以来工作，分析面临形势，推进各项年度目标任务落实。\n"


def test_help_lists_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for name in ("clean", "check", "detect", "explain", "pipe", "fix", "convert", "strip", "dedup"):
        assert name in result.stdout


def test_pipe_read_decode_write_jsonl_to_stdout(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY, "sub/b.txt": BODY.encode("gb18030")})
    result = run(*BASIC, src, "decode", "write", "-o", "-")
    assert result.exit_code == 0, result.stderr
    records = read_jsonl(result.stdout)
    assert [r["id"] for r in records] == ["a.txt", "sub/b.txt"]
    assert all(r["text"] == BODY for r in records)


def test_stdout_carries_only_data(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    result = run(*BASIC, src, "write", "-o", "-")
    assert result.stdout.strip().startswith("{") and len(read_jsonl(result.stdout)) == 1
    assert "summary" in result.stderr


def test_quiet_prints_nothing_but_errors(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY, "b.bin": b"\x00\x01\x02" * 100})
    result = run("pipe", "-q", "read", "-i", src, "write", "-o", "-")
    assert result.exit_code == 0
    assert "summary" not in result.stderr
    assert "b.bin" in result.stderr and "binary" in result.stderr


def test_directory_output_mirrors_paths_and_manifest_covers_all(run, tmp_path):
    src = write_tree(
        tmp_path / "in",
        {"x/1.txt": BODY, "x/2.txt": BODY.encode("utf-16"), "y/deep/3.txt": BODY, "empty.txt": b""},
    )
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = run(*BASIC, src, "filter", "write", "-o", out, "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    assert (out / "x/1.txt").read_text(encoding="utf-8") == BODY
    assert (out / "x/2.txt").read_text(encoding="utf-8") == BODY
    assert (out / "y/deep/3.txt").exists()
    rows = {r["id"]: r for r in read_manifest(manifest)}
    assert rows["empty.txt"]["status"] == "empty"
    assert rows["x/2.txt"]["encoding"] == "utf-16"
    assert set(rows) == {"x/1.txt", "x/2.txt", "y/deep/3.txt", "empty.txt"}
    for row in rows.values():
        assert set(row) == {
            "id",
            "status",
            "encoding",
            "confidence",
            "duplicate_of",
            "cluster",
            "error",
            "changes",
            "chars_in",
            "chars_out",
        }


def test_nonempty_output_dir_needs_overwrite(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    out = write_tree(tmp_path / "out", {"old.txt": "x"})
    result = run(*BASIC, src, "write", "-o", out)
    assert result.exit_code == 2
    assert "--overwrite" in result.stderr
    assert run(*BASIC, src, "write", "-o", out, "--overwrite").exit_code == 0
    assert (out / "a.txt").exists()


def test_output_inside_input_is_refused(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    for out in (src, src / "cleaned", tmp_path):
        result = run(*BASIC, src, "write", "-o", out, "--overwrite")
        assert result.exit_code == 2, out
        assert "overlaps input" in result.stderr
    assert (src / "a.txt").read_text(encoding="utf-8") == BODY


def test_jsonl_input_keeps_extra_fields_and_custom_field_names(run, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"doc": "r1", "body": BODY, "url": "u1", "meta": {"k": 1}}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = run(*BASIC, src, "--text-field", "body", "--id-field", "doc", "write", "-o", out)
    assert result.exit_code == 0, result.stderr
    [record] = read_jsonl(out.read_text(encoding="utf-8"))
    assert record == {"doc": "r1", "body": BODY, "url": "u1", "meta": {"k": 1}}


def test_jsonl_gz_input_and_output(run, tmp_path):
    src = tmp_path / "in.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        for i in range(3):
            fh.write(json.dumps({"id": f"r{i}", "text": BODY + str(i)}, ensure_ascii=False) + "\n")
    out = tmp_path / "out.jsonl.gz"
    assert run(*BASIC, src, "write", "-o", out).exit_code == 0
    with gzip.open(out, "rt", encoding="utf-8") as fh:
        assert [json.loads(line)["id"] for line in fh] == ["r0", "r1", "r2"]


def test_stdin_jsonl_and_stdin_text(run):
    lines = "".join(
        json.dumps({"id": f"s{i}", "text": BODY}, ensure_ascii=False) + "\n" for i in range(2)
    )
    result = run(*BASIC, "-", "write", "-o", "-", input=lines.encode("utf-8"))
    assert [r["id"] for r in read_jsonl(result.stdout)] == ["s0", "s1"]
    result = run(*BASIC, "-", "write", "-o", "-", input=BODY.encode("gb18030"))
    [record] = read_jsonl(result.stdout)
    assert record["text"] == BODY and record["id"] == "-"


def test_include_and_exclude_globs(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY, "b.html": BODY, "skip/c.txt": BODY})
    result = run(*BASIC, src, "--include", "*.txt", "--exclude", "skip/*", "write", "-o", "-")
    assert [r["id"] for r in read_jsonl(result.stdout)] == ["a.txt"]


def test_bad_inputs_never_abort_and_all_reach_the_manifest(run, tmp_path):
    """Empty, binary, NUL, a 5 MB line, invalid JSON among valid lines, unsafe ids, a symlink loop."""
    big = ("信息通信" * (5 * 1024 * 1024 // 12 + 1)).encode("utf-8")  # 5 MB, no newline
    src = write_tree(
        tmp_path / "in",
        {
            "empty.txt": b"",
            "binary.dat": bytes(range(256)) * 64,
            "nul.txt": "会议\x00明确".encode(),
            "huge-line.txt": big,
            "records.jsonl": "\n".join(
                [
                    json.dumps({"id": "ok-1", "text": BODY}, ensure_ascii=False),
                    '{"id": "broken", "text": ',
                    json.dumps({"id": "../escape", "text": BODY}, ensure_ascii=False),
                    json.dumps({"id": "/abs/x", "text": BODY}, ensure_ascii=False),
                    json.dumps({"id": "no-text"}),
                    "[1, 2]",
                    json.dumps({"id": "ok-2", "text": BODY}, ensure_ascii=False),
                ]
            )
            + "\n",
        },
    )
    os.symlink(src, src / "loop")  # a directory symlink pointing at its parent
    os.symlink(src / "self-link", src / "self-link")  # a symlink to itself
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = run(*BASIC, src, "filter", "write", "-o", out, "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = read_manifest(manifest)
    by_id = {r["id"]: r for r in rows}
    assert by_id["empty.txt"]["status"] == "empty"
    assert by_id["binary.dat"]["status"] == "error" and "binary" in by_id["binary.dat"]["error"]
    assert by_id["nul.txt"]["status"] == "error"
    assert by_id["huge-line.txt"]["status"] == "kept"
    assert by_id["records.jsonl:2"]["error"].startswith("invalid JSON at line 2")
    assert "unsafe id" in by_id["../escape"]["error"]
    assert "unsafe id" in by_id["/abs/x"]["error"]
    assert "no string field 'text'" in by_id["no-text"]["error"]
    assert "not a JSON object" in by_id["records.jsonl:6"]["error"]
    assert by_id["ok-1"]["status"] == by_id["ok-2"]["status"] == "kept"
    assert "unreadable" in by_id["self-link"]["error"]
    assert not any(r["id"].startswith("loop/") for r in rows), "symlink loop followed"
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == {"huge-line.txt", "ok-1", "ok-2"}
    assert not (tmp_path / "escape").exists() and not Path("/abs/x").exists()
    summary_errors = result.stderr.count("error ")
    assert summary_errors >= 7


def test_too_large_is_an_error_without_reading(run, tmp_path):
    src = write_tree(tmp_path / "in", {"big.txt": BODY * 100, "small.txt": BODY})
    manifest = tmp_path / "m.jsonl"
    result = run(*BASIC, src, "--max-bytes", "1000", "write", "-o", "-", "--manifest", manifest)
    assert result.exit_code == 0
    by_id = {r["id"]: r for r in read_manifest(manifest)}
    assert by_id["big.txt"]["error"].startswith("too large")
    assert by_id["small.txt"]["status"] == "kept"


def test_directory_of_2000_tiny_files(run, tmp_path):
    src = write_tree(
        tmp_path / "in", {f"d{i % 7}/f{i:04d}.txt": f"第{i}号文件。{BODY}" for i in range(2000)}
    )
    manifest = tmp_path / "m.jsonl"
    result = run(*BASIC, src, "write", "-o", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 0
    rows = read_manifest(manifest)
    assert len(rows) == 2000 and all(r["status"] == "kept" for r in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_strict_makes_errors_exit_1(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY, "b.bin": bytes(range(256)) * 4})
    assert run(*BASIC, src, "write", "-o", "-").exit_code == 0
    strict = run("pipe", "--strict", "read", "-i", src, "write", "-o", "-")
    assert strict.exit_code == 1
    assert strict.stderr.strip().endswith("1 documents are errors (--strict)")


def test_no_manifest_when_the_output_cannot_be_written(run, tmp_path, monkeypatch):
    # The output fails as it is closed (a full disk): the manifest must not say "kept".
    from cleancorpus import io as io_mod

    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    original = io_mod.Writer.__exit__

    def failing_exit(self, *exc):
        original(self, *exc)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io_mod.Writer, "__exit__", failing_exit)
    manifest = tmp_path / "m.jsonl"
    with pytest.raises(OSError):
        run("clean", src, "-o", tmp_path / "o.jsonl", "--manifest", manifest)
    assert not manifest.exists()


def test_usage_errors_exit_2_with_one_line(run, tmp_path):
    for args in (
        ["clean", tmp_path / "missing"],
        ["clean", SAMPLE, "--threshold", "2"],
        ["pipe", "decode", "write", "-o", "-"],
        ["pipe", "read", "-i", SAMPLE, "write", "-o", "-", "decode"],
        # A stage before decode would see documents without text (they came out empty, kept).
        ["pipe", "read", "-i", SAMPLE, "fix", "decode", "write", "-o", "-"],
        ["clean", SAMPLE, "--threshold", "nan"],  # FloatRange lets NaN through
        ["clean", SAMPLE, "--index", tmp_path / "i.npz", "--lock-timeout", "nan"],
    ):
        result = run(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_side_outputs_never_overwrite_or_sit_inside_inputs(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY, "sub/b.txt": BODY + "。"})
    victim = src / "a.txt"
    before = victim.read_bytes()
    out = tmp_path / "o.jsonl"
    for args in (
        ["clean", src, "-o", out, "--manifest", victim],
        ["clean", src, "-o", out, "--manifest", src / "sub" / "m.jsonl"],  # read half written
        ["clean", src, "-o", out, "--manifest", out],
        ["clean", src, "-o", out, "--index", src / "seen.npz"],
        ["check", src, "--report", victim],
        ["check", src, "--html", src / "r.html"],
        ["check", src, "--report", tmp_path / "r", "--html", tmp_path / "r"],
    ):
        result = run(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    assert victim.read_bytes() == before
    assert sorted(p.name for p in src.rglob("*")) == ["a.txt", "b.txt", "sub"]
    assert not out.exists()


def test_bad_config_names_the_key(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    for text, needle in (
        ("[filter]\nmin_chars = 'ten'\n", "filter.min_chars"),
        ("[filter]\nmin_charz = 3\n", "filter.min_charz"),
        ("[nosuch]\nx = 1\n", "nosuch"),
        ("not toml = = =", "invalid TOML"),
        # Values no run can use: once an error on every document, or a bare exit 1.
        ('[fix]\nmojibake_kinds = ["bogus"]\n', "fix.mojibake_kinds"),
        ('[fix]\ngbk_codecs = ["nosuch"]\n', "nosuch"),
        ('[fix]\nspace_policy = "weird"\n', "fix.space_policy"),
        ('[strip]\nbody_sentence_pattern = "(("\n', "body_sentence_pattern"),
        ("[io]\nmax_bytes = 0\n", "io.max_bytes"),
        ('[dedup]\nkeep = "foo"\n', "dedup.keep"),
        ("[dedup]\nnum_perm = 0\n", "dedup.num_perm"),
        ("[dedup]\nthreshold = nan\n", "dedup.threshold"),
        ("[dedup]\nweights = [0, 0]\n", "dedup.weights"),
        ("[run]\nchunk_size = 0\n", "run.chunk_size"),
    ):
        conf = tmp_path / "c.toml"
        conf.write_text(text)
        result = run("pipe", "--config", conf, "read", "-i", src, "write", "-o", "-")
        assert result.exit_code == 2
        assert needle in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_config_file_then_options_override(run, tmp_path):
    src = write_tree(tmp_path / "in", {"short.txt": "短文", "long.txt": BODY})
    conf = tmp_path / "c.toml"
    conf.write_text("[filter]\nmin_chars = 10\n")
    manifest = tmp_path / "m.jsonl"
    run(
        "pipe",
        "--config",
        conf,
        "read",
        "-i",
        src,
        "filter",
        "write",
        "-o",
        "-",
        "--manifest",
        manifest,
    )
    assert {r["id"]: r["status"] for r in read_manifest(manifest)}["short.txt"] == "empty"
    run(
        "pipe",
        "--config",
        conf,
        "read",
        "-i",
        src,
        "filter",
        "--min-chars",
        "1",
        "write",
        "-o",
        "-",
        "--manifest",
        manifest,
        "--overwrite",
    )
    assert {r["id"]: r["status"] for r in read_manifest(manifest)}["short.txt"] == "kept"


def test_detect_prints_path_encoding_confidence(run):
    result = run("detect", SAMPLE / "encodings")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    got = {Path(p).name: enc for p, enc, _ in rows}
    assert got["000_d614884e9944af63.gb18030.txt"] == "gb18030"
    assert got["002_8a6ffa770e45669e.big5.txt"] == "big5hkscs"
    assert got["004_2094dfdd9b72f696.utf-16.txt"] == "utf-16"
    assert got["001_7ada1f222e5e172d.utf-8-sig.txt"] == "utf-8-sig"
    assert all(0.0 <= float(c) <= 1.0 for _, _, c in rows)


def test_detect_reports_binary(run, tmp_path):
    src = write_tree(tmp_path / "in", {"b.bin": bytes(range(256)) * 8})
    result = run("detect", src / "b.bin")
    assert result.stdout.split("\t")[1] == "error"
    assert "binary" in result.stderr


@pytest.mark.parametrize("chunk_size", [2, 128])
@pytest.mark.parametrize("command", ["clean", "pipe"])
def test_jobs_1_and_2_byte_identical(run, tmp_path, command, chunk_size):
    """Also with chunks of 2 documents: many chunks in flight, finishing out of order."""
    cfg = tmp_path / "run.toml"
    cfg.write_text(f"[run]\nchunk_size = {chunk_size}\n")
    outputs = []
    for jobs in ("1", "2"):
        out, manifest = tmp_path / f"out{jobs}.jsonl", tmp_path / f"m{jobs}.jsonl"
        if command == "clean":
            args = ["clean", SAMPLE, "-j", jobs, "--config", cfg, "-o", out]
            args += ["--manifest", manifest]
        else:
            args = [
                "pipe",
                "--config",
                cfg,
                "-j",
                jobs,
                "read",
                "-i",
                SAMPLE,
                "decode",
                "write",
                "-o",
                out,
                "--manifest",
                manifest,
            ]
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        outputs.append((out.read_bytes(), manifest.read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0]


def test_clean_sample_data_manifest_accounts_for_every_document(run, tmp_path):
    manifest = tmp_path / "m.jsonl"
    result = run("clean", SAMPLE, "-o", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    rows = read_manifest(manifest)
    files = [p for p in SAMPLE.rglob("*") if p.is_file() and not p.name.endswith(".jsonl")]
    records = (SAMPLE / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(files) + len(records)
    assert all(r["status"] in ("kept", "duplicate", "empty", "error") for r in rows)


@pytest.mark.parametrize("command", ["clean", "strip", "check"])
def test_bad_rule_file_is_a_usage_error_before_anything_runs(run, tmp_path, command):
    rules = tmp_path / "bad.toml"
    rules.write_text(
        '[[rules]]\nname = "bad"\nkind = "line"\nzone = "header"\npattern = "(unclosed"\n'
    )
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    args = [command, src, "--rules", rules] + (["-o", "-"] if command != "check" else [])
    result = run(*args)
    assert result.exit_code == 2
    assert "rule 'bad'" in result.stderr and "bad regex" in result.stderr
    assert result.stdout == ""


def test_pipe_without_write_prints_jsonl(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    result = run("pipe", "read", "-i", src, "fix")
    assert [r["id"] for r in read_jsonl(result.stdout)] == ["a.txt"]


def test_outputs_get_ordinary_file_permissions(run, tmp_path):
    src = write_tree(tmp_path / "in", {"a.txt": BODY})
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    run(*BASIC, src, "write", "-o", out, "--manifest", manifest)
    umask = os.umask(0)
    os.umask(umask)
    for path in (out / "a.txt", manifest):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failing_batch_step_fails_only_its_document(monkeypatch):
    """A vectorised step that raises on one document of a chunk: that one is an error, the
    others still get the step (the runner retries them one by one)."""
    from cleancorpus.document import Document
    from cleancorpus.runner import Step, run_chunk

    def mark(docs, cfg):
        if any(d.text == "bad" for d in docs):
            raise ValueError("cannot take 'bad'")
        for d in docs:
            d.extra["seen"] = True

    docs = [Document(id=str(i), text=t) for i, t in enumerate(["a", "bad", "c"])]
    out = run_chunk(docs, (Step("mark", mark, None, batch=True),))
    assert [d.status for d in out] == ["kept", "error", "kept"]
    assert out[1].error == "mark: ValueError: cannot take 'bad'"
    assert out[0].extra["seen"] and out[2].extra["seen"]


def test_a_file_name_that_is_not_utf8_is_kept_and_round_trips(run, tmp_path):
    """GBK-named files from an unzipped dump: Python reads the name as \\udcXX; it is written
    as a JSON escape (reading back as the same name) and as the same bytes in a directory."""
    src = tmp_path / "in"
    src.mkdir()
    raw_name = "通知.txt".encode("gb18030")
    (Path(os.fsdecode(bytes(src))) / os.fsdecode(raw_name)).write_bytes(BODY.encode())
    manifest, out_dir = tmp_path / "m.jsonl", tmp_path / "out"
    for out in (tmp_path / "o.jsonl", out_dir):
        result = run("clean", src, "-o", out, "--manifest", manifest, "--overwrite")
        assert result.exit_code == 0, result.stderr
        [row] = read_manifest(manifest)
        assert row["status"] == "kept"
        assert os.fsencode(row["id"]) == raw_name
    assert [r["id"] for r in read_jsonl((tmp_path / "o.jsonl").read_text())] == [row["id"]]
    assert os.listdir(os.fsencode(bytes(out_dir))) == [raw_name]


def test_a_lone_surrogate_in_a_json_record_does_not_fail_the_run(run, tmp_path):
    src = tmp_path / "r.jsonl"
    src.write_text('{"id": "a", "text": "会议\\ud800强调"}\n', encoding="utf-8")
    result = run("pipe", "read", "-i", src, "write", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "会议\ud800强调"


def _console() -> list[str]:
    exe = Path(sys.executable).parent / "cleancorpus"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cleancorpus"]


def test_console_usage_errors_are_one_line(tmp_path):
    for args in (["pipe", "read", "-i", str(tmp_path), "-q"], ["nosuch"], ["clean"]):
        proc = subprocess.run([*_console(), *args], capture_output=True, timeout=60, check=False)
        assert proc.returncode == 2
        lines = proc.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cleancorpus: error: "), lines


@pytest.mark.timeout(120)
def test_sigterm_cleans_up_like_ctrl_c(tmp_path):
    # A CI job killed on a timeout: no temporary files beside the outputs or in TMPDIR, and
    # no worker process left behind.
    line = "会议强调，要把各项工作落到实处，推动高质量发展迈上新台阶。第{}号。\n"
    src = write_tree(tmp_path / "in", {f"{i:05d}.txt": line.format(i) * 8 for i in range(8000)})
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    cmd = [*_console(), "clean", str(src), "-j", "2", "-q"]
    cmd += ["-o", str(out / "o.jsonl"), "--manifest", str(out / "m.jsonl")]
    proc = subprocess.Popen(cmd, env={**os.environ, "TMPDIR": str(tmpdir)}, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(tmpdir.glob("cleancorpus-*")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # workers running
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(out.iterdir()) == [] and list(tmpdir.iterdir()) == []
    # Nothing left of its process group (fork server, workers, resource tracker) soon after.
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "processes left behind"
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_console_reports_with_a_lone_surrogate_id(tmp_path):
    # A JSON id "\ud800" (like ids from non-UTF-8 file names) crashed check and explain.
    text = BODY.replace("\n", " ")
    src = tmp_path / "s.jsonl"
    src.write_text(
        json.dumps({"id": "\ud800a", "text": text}) + "\n" + json.dumps({"id": "b", "text": text}),
        encoding="utf-8",
    )
    for args in (["check", str(src), "--format", "json"], ["explain", str(src)]):
        proc = subprocess.run([*_console(), *args], capture_output=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(
        subprocess.run(
            [*_console(), "check", str(src), "--format", "json"], capture_output=True, check=True
        ).stdout
    )
    assert report["documents"] == 2
