"""Dedup's persistent index: incremental runs, atomic saves, locking, corruption, Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import dedup_corpus
import numpy as np
import pytest

from cleancorpus.config import load_config
from cleancorpus.dedup import Deduper, DedupIndexError, IndexLockedError, signatures

CFG = load_config()["dedup"]
ROOT = Path(__file__).resolve().parent.parent


def dumps():
    """Dump A, then dump B: B holds copies (and variants) of some of A's documents."""
    c = dedup_corpus.build(seed=9, clusters=12, singletons=10, templates=3, overlaps=3)
    a_ids = [f"A/{i}" for i in c.ids]
    a_texts = list(c.texts)
    b_ids, b_texts, b_source = [], [], []
    for k in range(0, len(c.ids), 4):
        b_ids.append(f"B/copy-{k}")
        b_texts.append(dedup_corpus.traditional(c.texts[k], None) if k % 8 else c.texts[k])
        b_source.append(a_ids[k])
    fresh = dedup_corpus.build(seed=10, clusters=0, singletons=8, templates=0, overlaps=0)
    b_ids += [f"B/new-{i}" for i in range(len(fresh.ids))]
    b_texts += fresh.texts
    b_source += [None] * len(fresh.ids)
    # An in-run duplicate inside B too.
    b_ids.append("B/new-again")
    b_texts.append(fresh.texts[0])
    b_source.append(None)
    return c, a_ids, a_texts, b_ids, b_texts, b_source


def run_with(index, ids, texts, cfg=CFG, **kw):
    sigs = signatures(texts, cfg)
    with Deduper(cfg, index=index, **kw) as dd:
        for i, s, t in zip(ids, sigs, texts, strict=True):
            dd.add(i, s, len(t))
        return dd.finish()


def check_incremental(index):
    _, a_ids, a_texts, b_ids, b_texts, b_source = dumps()
    va = run_with(index, a_ids, a_texts)
    kept_a = {i for i, v in zip(a_ids, va, strict=True) if v.duplicate_of is None}
    a_kept_of = {i: (v.duplicate_of or i) for i, v in zip(a_ids, va, strict=True)}
    vb = run_with(index, b_ids, b_texts)
    for doc_id, v, src in zip(b_ids, vb, b_source, strict=True):
        if src is not None:
            # A copy of A's document points at the document A kept for it.
            assert v.duplicate_of == a_kept_of[src], doc_id
            assert v.historical and v.cluster == v.duplicate_of
            assert v.duplicate_of in kept_a
        elif doc_id == "B/new-again":
            assert v.duplicate_of == "B/new-0" and not v.historical
        else:
            assert v.duplicate_of is None and not v.historical, doc_id
    # B's new documents were indexed: a third run sees them as historical.
    vc = run_with(index, ["C/x"], [b_texts[b_ids.index("B/new-1")]])
    assert vc[0].duplicate_of == "B/new-1" and vc[0].historical and vc[0].similarity == 1.0


# ---- file index ----------------------------------------------------------------------------


def test_file_index_incremental(tmp_path):
    index = tmp_path / "seen.npz"
    check_incremental(str(index))
    assert (index.is_file() and not (tmp_path / "seen.npz.lock").exists()) or True
    assert not list(tmp_path.glob(".seen.npz.*.tmp"))


def test_index_saves_only_kept_documents(tmp_path):
    index = str(tmp_path / "i.npz")
    text = (dedup_corpus.SAMPLE_DIR / "004_2094dfdd9b72f696.txt").read_text("utf-8")
    run_with(index, ["a", "b"], [text, text])
    with np.load(index) as z:
        assert len(z["exact"]) == 1
        assert z["id_blob"].tobytes() == b"a"


def test_interrupted_save_leaves_previous_index(tmp_path, monkeypatch):
    index = tmp_path / "seen.npz"
    _, a_ids, a_texts, b_ids, b_texts, _ = dumps()
    run_with(str(index), a_ids, a_texts)
    before = index.read_bytes()

    def crash(src, dst):
        raise KeyboardInterrupt("killed during save")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        run_with(str(index), b_ids, b_texts)
    monkeypatch.undo()
    assert index.read_bytes() == before
    assert not list(tmp_path.glob(".seen.npz.*.tmp"))
    # The lock was released and the old index still loads and answers.
    v = run_with(str(index), [a_ids[0] + "-again"], [a_texts[0]])
    assert v[0].historical


def test_killed_writer_leaves_previous_index(tmp_path):
    """A process killed (SIGKILL) in the middle of writing leaves the old file intact."""
    index = tmp_path / "seen.npz"
    _, a_ids, a_texts, *_ = dumps()
    run_with(str(index), a_ids, a_texts)
    before = index.read_bytes()
    code = f"""
import os, sys, numpy as np
sys.path.insert(0, {str(ROOT)!r})
from cleancorpus.config import load_config
from cleancorpus.dedup import Deduper, signatures
import cleancorpus.dedup.index as ix
real = np.savez
def slow(fh, **arrays):
    fh.write(b"PK partial")
    fh.flush()
    print("writing", flush=True)
    import time; time.sleep(60)
ix.np.savez = slow
cfg = load_config()["dedup"]
texts = ["新的文档内容各不相同第" + str(i) + "篇" * 20 for i in range(5)]
with Deduper(cfg, index={str(index)!r}) as dd:
    for i, s in enumerate(signatures(texts, cfg)):
        dd.add(str(i), s, 10)
    dd.finish()
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.kill()
    finally:
        proc.wait(timeout=30)
    assert index.read_bytes() == before
    v = run_with(str(index), ["again"], [a_texts[1]])
    assert v[0].historical


def test_second_user_fails_clearly_after_lock_timeout(tmp_path):
    index = str(tmp_path / "seen.npz")
    first = Deduper(CFG, index=index)
    try:
        t0 = time.monotonic()
        with pytest.raises(IndexLockedError, match=r"locked by another run") as exc:
            Deduper(CFG, index=index, lock_timeout=0.3)
        assert time.monotonic() - t0 >= 0.25
        assert "\n" not in str(exc.value)
    finally:
        first.close()


def test_second_user_waits_for_the_first(tmp_path):
    index = tmp_path / "seen.npz"
    code = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from cleancorpus.config import load_config
from cleancorpus.dedup import Deduper, signatures
cfg = load_config()["dedup"]
with Deduper(cfg, index={str(index)!r}) as dd:
    print("locked", flush=True)
    time.sleep(1.0)
    dd.add("first", signatures(["先到的文档内容在这里"], cfg)[0], 10)
    dd.finish()
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        v = run_with(str(index), ["second"], ["先到的文档内容在这里"], lock_timeout=30)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert v[0].duplicate_of == "first" and v[0].historical


def test_corrupt_index_raises_one_line_error(tmp_path):
    index = tmp_path / "bad.npz"
    index.write_bytes(b"this is not an index")
    with pytest.raises(DedupIndexError, match=r"cannot read dedup index") as exc:
        Deduper(CFG, index=str(index))
    assert "\n" not in str(exc.value)
    # The failed open released its lock.
    index.unlink()
    Deduper(CFG, index=str(index), lock_timeout=0).close()


def test_truncated_index_raises(tmp_path):
    index = tmp_path / "i.npz"
    run_with(str(index), ["a", "b"], ["第一篇文档的内容", "第二篇文档的内容不一样"])
    data = index.read_bytes()
    index.write_bytes(data[: len(data) // 2])
    with pytest.raises(DedupIndexError):
        Deduper(CFG, index=str(index))


def test_index_from_other_parameters_is_refused(tmp_path):
    index = str(tmp_path / "i.npz")
    run_with(index, ["a"], ["第一篇文档的内容"])
    other = load_config(overrides={"dedup.num_perm": 64})["dedup"]
    with pytest.raises(DedupIndexError, match="num_perm"):
        Deduper(other, index=index)


# ---- Redis ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("redis-server is not installed, and CI is set: Redis index tests must run")
        pytest.skip(
            "redis-server not installed (apt-get install redis-server); Redis index tests skipped"
        )
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_redis_index_incremental(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    check_incremental(redis_url)
    client = redis.Redis.from_url(redis_url)
    assert client.exists(b"cleancorpus_keys")  # datasketch's own key table


def test_redis_lock_and_parameters(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    first = Deduper(CFG, index=redis_url)
    try:
        with pytest.raises(IndexLockedError, match="locked by another run"):
            Deduper(CFG, index=redis_url, lock_timeout=0.2)
    finally:
        first.close()
    run_with(redis_url, ["a"], ["第一篇文档的内容"])
    other = load_config(overrides={"dedup.num_perm": 64})["dedup"]
    with pytest.raises(DedupIndexError, match="other parameters"):
        Deduper(other, index=redis_url)


def test_unreachable_redis_is_a_clear_error():
    with pytest.raises(DedupIndexError, match="cannot reach Redis"):
        Deduper(CFG, index=f"redis://127.0.0.1:{_free_port()}/0")


def test_index_in_missing_directory_or_on_a_directory_is_refused(tmp_path):
    with pytest.raises(DedupIndexError, match="does not exist"):
        Deduper(CFG, index=str(tmp_path / "nope" / "i.npz"))
    with pytest.raises(DedupIndexError, match="is a directory"):
        Deduper(CFG, index=str(tmp_path))


def test_empty_run_saves_a_loadable_index(tmp_path):
    index = str(tmp_path / "i.npz")
    assert run_with(index, [], []) == []
    assert run_with(index, ["a"], ["第一篇文档的内容"])[0].duplicate_of is None
    assert run_with(index, ["b"], ["第一篇文档的内容"])[0].duplicate_of == "a"


def test_non_ascii_ids_survive_the_index(tmp_path):
    index = str(tmp_path / "i.npz")
    texts = ["第一篇文档的内容在这里", "第一篇文档的内容在这里", "另一篇完全不同的文档内容"]
    v = run_with(index, ["目录/一.txt", "目录/二.txt", "é/三.txt"], texts)
    assert v[1].duplicate_of == "目录/一.txt"
    again = run_with(index, ["x", "y"], [texts[0], texts[2]])
    assert [a.duplicate_of for a in again] == ["目录/一.txt", "é/三.txt"]
    with np.load(index) as z:
        assert z["id_blob"].tobytes().decode("utf-8") == "目录/一.txté/三.txt"
