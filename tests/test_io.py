"""io.read_limited: sized reads that still see a file's real end and the limit."""

from __future__ import annotations

import io
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
