"""Readers and writers: files, directories, JSON Lines (plain or gzip), stdin and stdout.

Readers turn every input, good or bad, into a Document: a file that cannot be read, is too
large or is an invalid JSON line becomes a Document with status ``error``; nothing is skipped.
"""

from __future__ import annotations

import codecs
import contextlib
import fnmatch
import gzip
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cleancorpus.config import Frozen
from cleancorpus.document import KEPT, Document, DocumentError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")

# A JSON Lines record whose values nest deeper than this is an error document: deeper
# structures cannot be pickled to worker processes (seen failing at ~450-989 levels with -j 2),
# and json.loads itself gives up at ~990 (RecursionError).
MAX_JSON_DEPTH = 100


class InputError(Exception):
    """A problem with the command's inputs or outputs as a whole (a usage error)."""


def is_jsonl(name: str) -> bool:
    return name == "-" or name.lower().endswith(JSONL_SUFFIXES)


# ---------------------------------------------------------------------------------------------
# Reading


def read_documents(paths: Iterable[str], cfg: Frozen, records: bool = True) -> Iterator[Document]:
    """Every document of every input, in a deterministic order. ``cfg`` is the ``io`` section.

    With ``records`` false, JSON Lines files are single documents like any other file.
    """
    for name in paths:
        if name == "-":
            yield from _read_stream(sys.stdin.buffer, "-", cfg, records)
            continue
        path = Path(name)
        if path.is_dir():
            yield from _read_tree(path, cfg, records)
        elif path.exists() and not path.is_file():
            # A pipe or device named on the command line (``<(zcat dump.gz)``): read here, as
            # standard input is (a worker process could not open the parent's /dev/fd/N).
            try:
                with open(name, "rb") as fh:
                    yield from _read_stream(fh, name, cfg, records)
            except OSError as exc:
                yield Document(id=name).fail(f"unreadable: {exc.strerror or exc}")
        elif path.exists() or path.is_symlink():
            yield from _read_file(name, path.name, str(path.parent), cfg, records)
        else:
            raise InputError(f"no such file or directory: {name}")


def _read_stream(stream: IO[bytes], name: str, cfg: Frozen, records: bool) -> Iterator[Document]:
    """JSON Lines if the first non-blank byte is ``{``, else one text document with id ``name``."""
    if not hasattr(stream, "peek"):  # e.g. a BytesIO under test runners
        stream = io.BufferedReader(stream)  # type: ignore[arg-type]
    head = stream.peek(4096)[:4096]  # type: ignore[attr-defined]
    # A UTF-8 BOM before the first record is skipped, as json.loads does for files by path.
    head = head.removeprefix(codecs.BOM_UTF8)
    if records and head.lstrip()[:1] in (b"{", b""):
        yield from _read_jsonl(stream, name, name, cfg)
    else:
        yield _file_document(stream, name, None, name, cfg)


def _globs(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a relative path matches any of the globs (``fnmatchcase``), as one regex."""
    joined = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
    match = re.compile(joined).match if joined else None
    return lambda rel: match is not None and match(rel) is not None


def _read_tree(root: Path, cfg: Frozen, records: bool) -> Iterator[Document]:
    """Files under ``root`` in sorted order; symlinked directories followed once (no loops).

    A file's group (for template lines) is the first directory under ``root`` it is in, or
    ``root`` itself: dumps are usually laid out one directory per site.
    """
    seen: set[tuple[int, int]] = set()
    exclude, include = _globs(cfg["exclude"]), _globs(cfg["include"])
    everything = not cfg["include"]

    def walk(directory: str, rel: str) -> Iterator[Document]:
        try:
            st = os.stat(directory)
            if (st.st_dev, st.st_ino) in seen:
                return  # a symlink loop, or a second link to a directory already read
            seen.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield Document(id=rel or directory).fail(f"unreadable directory: {exc.strerror}")
            return
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not exclude(child + "/"):
                    yield from walk(entry.path, child)
            elif not exclude(child) and (everything or include(child)):
                top = child.split("/", 1)[0] if "/" in child else ""
                group = os.path.join(str(root), top) if top else str(root)
                if _special(entry):
                    # Opening a FIFO blocks until something writes to it: never in a walk.
                    yield Document(id=child, path=entry.path, group=group).fail(
                        "not a regular file (a pipe, socket or device)"
                    )
                else:
                    yield from _read_file(entry.path, child, group, cfg, records)

    yield from walk(str(root), "")


def _special(entry: os.DirEntry[str]) -> bool:
    """A FIFO, socket or device (a symlink followed); not a broken symlink, which reads as
    unreadable. Regular files are told by the directory listing, without a stat."""
    try:
        return not entry.is_file() and os.path.exists(entry.path)
    except OSError:
        return False


def _read_file(
    path: str, rel: str, group: str, cfg: Frozen, records: bool = True
) -> Iterator[Document]:
    name = os.path.basename(path)
    if not (records and is_jsonl(name)):
        # Read, size check included, where the document is decoded (a worker): see load_raw.
        yield Document(id=rel, path=path, group=group)
        return
    try:
        opener = gzip.open if name.lower().endswith(".gz") else open
        with opener(path, "rb") as fh:
            yield from _read_jsonl(fh, rel, group, cfg)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        yield Document(id=rel, path=path, group=group).fail(f"unreadable: {reason}")


def read_limited(fh: IO[bytes], limit: int, size: int | None = None) -> bytes:
    """At most ``limit`` + 1 bytes (one more tells a file too large).

    ``read(limit + 1)`` allocates the whole limit up front (64 MB by default): sized from the
    file's length (``size``, or its stat) it reads 20,000 small pages in a quarter of the
    time. A file longer than that (growing, or a pipe) is read on to the limit."""
    if size is None:
        try:
            size = os.fstat(fh.fileno()).st_size
        except (AttributeError, OSError, ValueError):  # not a real file (BytesIO in tests)
            size = limit
    raw = fh.read(min(size, limit) + 1)
    if len(raw) > size and len(raw) <= limit:
        raw += fh.read(limit + 1 - len(raw))
    return raw


def load_raw(doc: Document, limit: int) -> Document:
    """Read the bytes of a file document that has not been read yet (no raw, no text)."""
    if doc.active and doc.raw is None and doc.text is None and doc.path is not None:
        try:
            with open(doc.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > limit:
                    raise DocumentError(f"too large: {size} bytes > max_bytes {limit}")
                doc.raw = read_limited(fh, limit, size)
        except OSError as exc:
            raise DocumentError(f"unreadable: {exc.strerror or exc}") from None
        if len(doc.raw) > limit:
            raise DocumentError(f"too large: more than max_bytes {limit} bytes")
    return doc


def _file_document(fh: IO[bytes], rel: str, path: str | None, group: str, cfg: Frozen) -> Document:
    limit = cfg["max_bytes"]
    raw = read_limited(fh, limit)
    doc = Document(id=rel, raw=raw, path=path, group=group)
    if len(raw) > limit:
        return doc.fail(f"too large: more than max_bytes {limit} bytes")
    return doc


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


def _finite(number: str) -> float:
    value = float(number)
    if math.isinf(value):
        raise ValueError(f"number {number} is out of range")
    return value


# NaN, Infinity and numbers that overflow to inf would be written back as NaN/Infinity, which
# is not JSON (jq, Go, JavaScript reject the line): such a line is invalid. One decoder for
# every line: json.loads with hooks builds a new one per call.
_from_json = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite).decode


def parse_json_line(line: bytes) -> Any:
    """One JSON value, read as ``json.loads(line)`` reads it (UTF-8/16/32, a BOM skipped) but
    without NaN/Infinity and with values nested at most MAX_JSON_DEPTH levels; ValueError
    if not."""
    try:
        value = _from_json(line.decode(json.detect_encoding(line), "surrogatepass"))
        deep = isinstance(value, (dict, list)) and _too_deep(value, MAX_JSON_DEPTH)
    except RecursionError:
        deep = True
    if deep:
        raise ValueError(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    return value


def _too_deep(value: dict[str, Any] | list[Any], levels: int) -> bool:
    """Whether the dicts and lists inside ``value`` nest more than ``levels`` deep. Only they
    are walked (records are mostly flat strings), and never more than ``levels`` down."""
    children = value.values() if isinstance(value, dict) else value
    return any(
        isinstance(child, (dict, list)) and (levels <= 0 or _too_deep(child, levels - 1))
        for child in children
    )


def _read_jsonl(fh: IO[bytes], rel: str, group: str, cfg: Frozen) -> Iterator[Document]:
    limit = cfg["max_bytes"]
    text_field, id_field, group_field = cfg["text_field"], cfg["id_field"], cfg["group_field"]
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        where = f"{rel}:{lineno}"
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the over-long line
                line = fh.readline(1 << 20)
            yield Document(id=where).fail(f"too large: JSON line {lineno} over max_bytes {limit}")
            continue
        if not line.strip():
            continue
        try:
            record = parse_json_line(line)
        except ValueError as exc:  # UnicodeDecodeError included
            yield Document(id=where).fail(f"invalid JSON at line {lineno}: {exc}")
            continue
        if not isinstance(record, dict):
            yield Document(id=where).fail(f"invalid record at line {lineno}: not a JSON object")
            continue
        text = record.pop(text_field, None)
        doc_id = record.pop(id_field, None)
        doc_id = where if doc_id is None else str(doc_id)
        if not isinstance(text, str):
            yield Document(id=doc_id).fail(
                f"invalid record at line {lineno}: no string field '{text_field}'"
            )
            continue
        grp = str(record.get(group_field, group)) if group_field else group
        yield Document(id=doc_id, text=text, group=grp, fields=record)


# ---------------------------------------------------------------------------------------------
# Writing


def safe_relpath(doc_id: str) -> PurePosixPath | None:
    """The id as a path inside the output directory, or None if it would escape it."""
    if not doc_id or "\x00" in doc_id or "\\" in doc_id:
        return None
    rel = PurePosixPath(doc_id)
    if (
        rel.is_absolute()
        or any(part in ("..", "") for part in rel.parts)
        or rel == PurePosixPath(".")
    ):
        return None
    return rel


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp makes 0600 files; outputs get the permissions an ordinary open() would give them.
FILE_MODE = 0o666 & ~_umask()


def temp_beside(path: Path) -> tuple[int, str]:
    """A temporary file in ``path``'s directory (same file system: renames are atomic)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, FILE_MODE)
    return fd, tmp


def _not_regular(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (symlinks followed): a device such as
    /dev/null or /dev/full, a FIFO, or a symlink to one such as /dev/stdout. Renaming a file
    over it would replace the device node or the symlink (for every process on the machine),
    so outputs are written into it instead."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):  # missing (the usual case), or a name no file can have
        return False


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and rename: no partial files.
    An existing device, FIFO or symlink to one is written into, not replaced."""
    if _not_regular(path):
        with open(path, "wb") as fh:
            fh.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _compressed(raw: IO[bytes], path: Path) -> Iterator[IO[bytes]]:
    """``raw``, gzip-compressed when ``path`` ends with ``.gz``."""
    if path.name.endswith(".gz"):
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            yield gz
    else:
        yield raw


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream that appears at ``path`` only when the block completes.
    An existing device, FIFO or symlink to one (``--manifest /dev/stdout``) is written into
    directly, not replaced: see _not_regular."""
    if _not_regular(path):
        with open(path, "wb") as raw, _compressed(raw, path) as out:
            yield out
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as raw, _compressed(raw, path) as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_output(out: str, inputs: Iterable[str], overwrite: bool) -> None:
    """Refuse outputs that could overwrite an input, and non-empty targets without --overwrite."""
    if out == "-":
        return
    target = Path(out).resolve()
    for name in inputs:
        if name != "-" and _overlaps(target, Path(name).resolve()):
            raise InputError(f"output {out} overlaps input {name}; choose another output")
    if overwrite:
        return
    if is_jsonl(out) and target.exists():
        raise InputError(f"output file {out} exists; use --overwrite to replace it")
    if target.is_dir() and any(target.iterdir()):
        raise InputError(f"output directory {out} is not empty; use --overwrite to write into it")
    if target.exists() and not target.is_dir() and not is_jsonl(out):
        raise InputError(f"output {out} is a file; give a directory, a .jsonl file or -")


def record(doc: Document, cfg: Frozen) -> dict[str, Any]:
    return {cfg["id_field"]: doc.id, cfg["text_field"]: doc.text, **doc.fields}


# One encoder for every line: json.dumps with options builds a new one per call.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def json_line(obj: Any) -> bytes:
    r"""One JSON Lines line. A lone surrogate (a file name that is not UTF-8, which Python
    reads as ``\udcXX``; a lone ``\ud800`` from JSON input) is written as its JSON escape,
    which reads back as the same string, instead of failing the run."""
    return (_to_json(obj) + "\n").encode("utf-8", "backslashreplace")


class Writer:
    """Writes kept documents to a directory tree, a JSON Lines file, or stdout."""

    def __init__(self, out: str, cfg: Frozen) -> None:
        self.out, self.cfg = out, cfg
        self._stack = contextlib.ExitStack()
        self._stream: IO[bytes] | None = None
        self.directory = None if is_jsonl(out) else Path(out)
        # Relative paths written in this run (as safe_relpath normalises them: ``./x`` is
        # ``x``): a second document for one of them fails instead of replacing the first.
        self._written: set[PurePosixPath] = set()

    def __enter__(self) -> Writer:
        if self.out == "-":
            self._stream = sys.stdout.buffer
        elif self.directory is None:
            self._stream = self._stack.enter_context(atomic_output(Path(self.out)))
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.out == "-":
            sys.stdout.flush()
        self._stack.__exit__(*exc)

    def write(self, doc: Document) -> None:
        if doc.status != KEPT:
            return
        if self._stream is not None:
            self._stream.write(json_line(record(doc, self.cfg)))
            return
        assert self.directory is not None
        rel = safe_relpath(doc.id)
        if rel is None:
            doc.fail(f"unsafe id for a file path: {doc.id!r}")
            return
        if rel in self._written:
            doc.fail(f"output path {rel} already written for an earlier document")
            return
        text = doc.text or ""
        if text and not text.endswith("\n"):
            text += "\n"  # a text file ends with a newline
        # Any failure fails this document only; the run goes on.
        try:
            os.fsencode(rel)  # before any directory is made for it
            atomic_write(self.directory / rel, text.encode("utf-8", "backslashreplace"))
        except UnicodeError as exc:  # a lone surrogate (JSON "\ud800") is no file name
            reason = getattr(exc, "reason", None) or exc
            doc.fail(f"cannot write {str(rel)!r}: not a valid file name ({reason})")
        except OSError as exc:
            doc.fail(f"cannot write {rel}: {exc.strerror or exc}")
        else:
            self._written.add(rel)


class ManifestWriter:
    """One JSON line per input document, appearing atomically when the run ends."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._stack = contextlib.ExitStack()
        self._stream: IO[bytes] | None = None

    def __enter__(self) -> ManifestWriter:
        if self.path:
            self._stream = self._stack.enter_context(atomic_output(Path(self.path)))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)

    def write(self, doc: Document) -> None:
        if self._stream is not None:
            self._stream.write(json_line(doc.manifest()))
