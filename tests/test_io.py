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
