"""io: sized reads, globs, and inputs that are not regular files (FIFOs in a tree, pipes named on the command line)."""

from __future__ import annotations

import io
import json
import os

import pytest

from cleancorpus.io import read_limited


@pytest.mark.parametrize("size", [0, 1, 9, 10, 11, 50])
def test_regular_file_read_to_its_end_or_one_past_the_limit(tmp_path, size):
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * size)
    with open(path, "rb") as fh:
        raw = read_limited(fh, 10)
    assert raw == b"x" * min(size, 11)


def test_pipe_and_non_file_streams():
    """A pipe's size reads 0: what follows the first byte is read on, to the limit."""
    r, w = os.pipe()
    os.write(w, b"from a pipe")
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        assert read_limited(fh, 100) == b"from a pipe"
    assert read_limited(io.BytesIO(b"z" * 30), 10) == b"z" * 11


@pytest.mark.parametrize(
    "patterns",
    [
        [],
        [".git/**", "**/.git/**"],
        ["*.txt"],
        ["skip/*", "a?c", "[!x]*.html"],
        ["*"],
        ["(", "a|b"],
    ],
)
def test_globs_match_exactly_as_fnmatchcase(patterns):
    import fnmatch

    from cleancorpus.io import _globs

    paths = [
        "a.txt", "abc", "a/b.txt", ".git/HEAD", "x/.git/config", ".git/", "skip/x", "skip/x/y",
        "xa.html", "ya.html", "(", "a|b", "A.TXT", "", "a\nb.txt",
    ]  # fmt: skip
    match = _globs(patterns)
    for p in paths:
        assert match(p) == any(fnmatch.fnmatchcase(p, g) for g in patterns), (p, patterns)


def _alarm(seconds: int):
    import signal

    def fail(*_):
        raise TimeoutError("hung")

    signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fifo_in_a_walked_tree_is_an_error_not_a_hang(run, tmp_path, jobs):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("会议强调，要把各项工作落到实处，确保取得实效。\n", encoding="utf-8")
    os.mkfifo(src / "b.txt")
    manifest = tmp_path / "m.jsonl"
    _alarm(60)
    try:
        result = run("clean", src, "-j", jobs, "-o", tmp_path / "o.jsonl", "--manifest", manifest)
    finally:
        import signal

        signal.alarm(0)
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in map(json.loads, manifest.read_text().splitlines())}
    assert rows["a.txt"]["status"] == "kept"
    assert rows["b.txt"]["status"] == "error"
    assert "not a regular file" in rows["b.txt"]["error"]


@pytest.mark.parametrize(
    ("data", "ids"),
    [
        ("会议强调，要把各项工作落到实处。\n".encode(), None),
        (b'{"id": "r1", "text": "x"}\n{"id": "r2", "text": "y"}\n', ["r1", "r2"]),
    ],
)
def test_a_pipe_named_on_the_command_line_is_read_in_this_process(cfg, data, ids):
    """``cleancorpus clean <(zcat dump.gz)``: the parent reads /dev/fd/N (workers could not)."""
    from cleancorpus.io import read_documents

    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    try:
        name = f"/dev/fd/{r}"
        docs = list(read_documents([name], cfg["io"]))
    finally:
        os.close(r)
    if ids is None:
        assert [(d.id, d.raw) for d in docs] == [(name, data)]
    else:
        assert [d.id for d in docs] == ids


# ---------------------------------------------------------------------------------------------
# Bad JSON Lines records become error documents; the run goes on


def _read_jsonl_bytes(cfg, data: bytes):
    from cleancorpus.io import _read_jsonl

    return list(_read_jsonl(io.BytesIO(data), "in.jsonl", "", cfg["io"]))


def _statuses(docs):
    return [(d.id, d.status) for d in docs]


GOOD_A = b'{"id": "a", "text": "\xe6\xad\xa3\xe6\x96\x87\xe4\xb8\x80"}\n'
GOOD_B = b'{"id": "b", "text": "\xe6\xad\xa3\xe6\x96\x87\xe4\xba\x8c"}\n'


def test_a_line_too_deep_for_the_json_parser_is_an_error_document(cfg):
    docs = _read_jsonl_bytes(cfg, GOOD_A + b"[" * 100000 + b"\n" + GOOD_B)
    assert _statuses(docs) == [("a", "kept"), ("in.jsonl:2", "error"), ("b", "kept")]
    assert "invalid JSON at line 2" in docs[1].error
    assert "nested too deeply" in docs[1].error


def _nested_line(depth: int, kind: str) -> bytes:
    """A record with a value nested exactly ``depth`` levels."""
    n = depth
    value = b"[" * n + b"]" * n if kind == "list" else b'{"k": ' * n + b"1" + b"}" * n
    return b'{"id": "d", "text": "x", "extra": ' + value + b"}\n"


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("depth", [101, 500, 990])
def test_a_record_nested_deeper_than_the_limit_is_an_error_document(cfg, depth, kind):
    """Deeper values cannot be pickled to worker processes (``-j 2`` aborted at ~450 levels)."""
    from cleancorpus.io import MAX_JSON_DEPTH

    assert MAX_JSON_DEPTH == 100
    docs = _read_jsonl_bytes(cfg, GOOD_A + _nested_line(depth, kind) + GOOD_B)
    assert _statuses(docs) == [("a", "kept"), ("in.jsonl:2", "error"), ("b", "kept")]
    assert "nested too deeply" in docs[1].error


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("depth", [1, 100])
def test_a_record_within_the_depth_limit_is_read(cfg, depth, kind):
    line = _nested_line(depth, kind)
    (doc,) = _read_jsonl_bytes(cfg, line)
    assert doc.status == "kept"
    assert doc.fields == {"extra": json.loads(line)["extra"]}


def test_a_deep_record_read_in_a_worker_process(run, tmp_path):
    """At the limit, records still cross to worker processes (-j 2) and back."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD_A + _nested_line(100, "list") + _nested_line(500, "dict"))
    manifest = tmp_path / "m.jsonl"
    result = run("clean", "-q", "-j", "2", src, "-o", tmp_path / "o.jsonl", "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["kept", "kept", "error"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"NaN", "NaN"),
        (b"Infinity", "Infinity"),
        (b"-Infinity", "-Infinity"),
        (b"1e999", "1e999"),
        (b"-1.5e400", "-1.5e400"),
    ],
)
def test_nan_infinity_and_overflowing_numbers_are_invalid_json(cfg, value, reason):
    """They would be written back as NaN/Infinity, which is not JSON (jq, Go, JS reject it)."""
    line = b'{"id": "n", "text": "x", "score": ' + value + b"}\n"
    docs = _read_jsonl_bytes(cfg, GOOD_A + line + GOOD_B)
    assert _statuses(docs) == [("a", "kept"), ("in.jsonl:2", "error"), ("b", "kept")]
    assert docs[1].error.startswith("invalid JSON at line 2: ")
    assert reason in docs[1].error


def test_large_but_finite_numbers_are_kept_exactly(cfg):
    line = b'{"id": "n", "text": "x", "big": 1e300, "int": 123456789012345678901234567890}\n'
    (doc,) = _read_jsonl_bytes(cfg, line)
    assert doc.fields == {"big": 1e300, "int": 123456789012345678901234567890}


def test_a_bad_json_line_does_not_abort_a_clean_run(run, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD_A + b"[" * 100000 + b"\n" + b'{"id": "n", "text": "y", "s": NaN}\n')
    manifest = tmp_path / "m.jsonl"
    result = run("clean", "-q", "--no-dedup", src, "-o", "-", "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a"]
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["kept", "error", "error"]


def test_jsonl_with_a_utf8_bom_on_stdin_is_read_as_records(run):
    """As the same file given by path is; not one text document holding the raw JSON."""
    result = run(
        "clean", "-q", "--no-dedup", "-", "-o", "-", input=b"\xef\xbb\xbf" + GOOD_A + GOOD_B
    )
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "b"]


# ---------------------------------------------------------------------------------------------
# Writing a directory tree: one file per kept document, never two documents to one file


def _write_all(cfg, out, ids):
    from cleancorpus.document import Document
    from cleancorpus.io import Writer

    docs = [Document(id=i, text=f"正文{n}") for n, i in enumerate(ids)]
    with Writer(str(out), cfg["io"]) as writer:
        for doc in docs:
            writer.write(doc)
    return docs


@pytest.mark.parametrize(
    "ids",
    [
        ["x", "x"],  # duplicate JSONL ids, or two input roots with the same relative file
        ["x", "./x"],
        ["e", "e/"],
        ["q/r", "q/./r"],
        ["a/b.txt", "a//b.txt"],
    ],
)
def test_two_documents_for_one_output_path_the_second_fails(cfg, tmp_path, ids):
    out = tmp_path / "out"
    first, second = _write_all(cfg, out, ids)
    assert first.status == "kept"
    assert second.status == "error"
    assert "already written for an earlier document" in second.error
    (written,) = [p for p in out.rglob("*") if p.is_file()]
    assert written.read_text(encoding="utf-8") == "正文0\n"


def test_two_input_roots_with_the_same_relative_file(run, tmp_path):
    for n, root in enumerate(["r1", "r2"]):
        (tmp_path / root).mkdir()
        text = ["第一个根目录中的文件内容，讲述工业。", "第二个根目录中的另一文件，讲述商业贸易。"][
            n
        ]
        (tmp_path / root / "x.txt").write_text(text + "\n", encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    out = tmp_path / "out"
    result = run("clean", "-q", tmp_path / "r1", tmp_path / "r2", "-o", out, "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["kept", "error"]
    assert "第一个根目录" in (out / "x.txt").read_text(encoding="utf-8")


def test_an_id_that_is_no_file_name_fails_only_its_document(cfg, tmp_path):
    """A lone surrogate (a valid JSON escape) cannot be encoded as a file name."""
    out = tmp_path / "out"
    docs = _write_all(cfg, out, ["a", "\ud800", "sub/\udfff/c", "b"])
    assert [d.status for d in docs] == ["kept", "error", "error", "kept"]
    assert "surrogates not allowed" in docs[1].error
    docs[1].error.encode("utf-8")  # the reason itself is writable text
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["a", "b"]


def test_a_surrogate_id_does_not_abort_a_clean_run(run, tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_text(
        '{"id": "s1", "text": "正文一"}\n{"id": "\\ud800", "text": "另一篇"}\n', encoding="utf-8"
    )
    manifest = tmp_path / "m.jsonl"
    result = run("clean", "-q", "--no-dedup", src, "-o", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [(r["id"], r["status"]) for r in rows] == [("s1", "kept"), ("\ud800", "error")]


# ---------------------------------------------------------------------------------------------
# Outputs that are devices, FIFOs or symlinks to them are written into, never replaced


def test_atomic_output_writes_through_a_symlink_to_a_device(tmp_path):
    """``--manifest /dev/stdout`` (a symlink) or ``/dev/full``: replacing them broke the system."""
    from cleancorpus.io import atomic_output, atomic_write

    link = tmp_path / "null.jsonl"
    link.symlink_to(os.devnull)
    with atomic_output(link) as fh:
        fh.write(b"{}\n")
    atomic_write(link, b"data\n")
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert list(tmp_path.iterdir()) == [link]  # no temporary files left beside it


@pytest.mark.parametrize("name", ["fifo.jsonl", "fifo.jsonl.gz"])
def test_atomic_output_writes_into_a_fifo(tmp_path, name):
    import gzip
    import stat

    from cleancorpus.io import atomic_output

    fifo = tmp_path / name
    os.mkfifo(fifo)
    # The read end open first (non-blocking), so opening the write end does not wait.
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with atomic_output(fifo) as fh:
            fh.write(b'{"id": "a"}\n')
        try:
            got = os.read(r, 1 << 16)
        except BlockingIOError:
            got = b""
    finally:
        os.close(r)
    assert (gzip.decompress(got) if name.endswith(".gz") else got) == b'{"id": "a"}\n'
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert list(tmp_path.iterdir()) == [fifo]


def test_atomic_output_still_replaces_a_regular_file_atomically(tmp_path):
    from cleancorpus.io import atomic_output

    target = tmp_path / "m.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), atomic_output(target) as fh:
        fh.write(b"partial")
        raise RuntimeError
    assert target.read_bytes() == b"old\n"
    with atomic_output(target) as fh:
        fh.write(b"new\n")
    assert target.read_bytes() == b"new\n"
    assert list(tmp_path.iterdir()) == [target]
