"""``--engine ray`` gives byte-identical outputs and manifests to ``--engine local``.

One local Ray instance (2 CPUs) serves the whole module; the engine reuses an instance its
process already started. Skipped when Ray is not installed (``pip install 'cleancorpus[ray]'``),
except the test of the error message without Ray.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
from pathlib import Path

import pytest

from cleancorpus import pipeline
from cleancorpus.config import load_config
from cleancorpus.document import Document
from conftest import ROOT, SAMPLE, read_manifest

# Ray Data warns about its own deprecated settings when it copies its context.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAVE_RAY, reason="Ray is not installed (pip install 'cleancorpus[ray]')"
)


@pytest.fixture(scope="module")
def ray_instance():
    if not HAVE_RAY:
        pytest.skip("Ray is not installed (pip install 'cleancorpus[ray]')")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(
            address="local",  # never another process's instance
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=500 << 20,
            log_to_driver=False,
            logging_level="WARNING",
        )
    yield ray
    if started:
        ray.shutdown()


def clean_both(run, inputs, out_name: str, tmp_path: Path, *options) -> tuple[Path, Path]:
    """``clean`` with each engine; returns the two run directories (output, manifest.jsonl)."""
    dirs = []
    for engine in ("local", "ray"):
        base = tmp_path / engine
        base.mkdir(parents=True)
        args = ["clean", *inputs, "-o", base / out_name, "--manifest", base / "manifest.jsonl"]
        result = run(*args, "--engine", engine, *options)
        assert result.exit_code == 0, result.stderr
        dirs.append(base)
    return dirs[0], dirs[1]


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def assert_identical(local: Path, ray_dir: Path) -> None:
    a, b = tree(local), tree(ray_dir)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], f"{name} differs between the engines"


# ---------------------------------------------------------------------------------------------
# Without Ray


def test_engine_ray_without_ray_is_one_line_error(run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now raises ImportError
    monkeypatch.delitem(sys.modules, "cleancorpus.engines.ray_engine", raising=False)
    import cleancorpus.engines

    # "from cleancorpus.engines import ray_engine" would find an earlier import here.
    monkeypatch.delattr(cleancorpus.engines, "ray_engine", raising=False)
    result = run("clean", SAMPLE, "-o", tmp_path / "out", "--engine", "ray")
    assert result.exit_code != 0
    message = result.stderr.strip()
    assert "pip install 'cleancorpus[ray]'" in message
    assert len(message.splitlines()) == 1, message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------------------------------------
# The CLI, both engines


@needs_ray
def test_sample_data_directory_and_jsonl_identical(ray_instance, run, tmp_path):
    local, ray_dir = clean_both(run, [SAMPLE], "out", tmp_path)
    assert len(tree(local / "out")) >= 5
    assert_identical(local, ray_dir)
    local, ray_dir = clean_both(run, [SAMPLE], "out.jsonl", tmp_path / "jsonl")
    assert_identical(local, ray_dir)


@needs_ray
def test_cli_starts_and_stops_its_own_instance(run, tmp_path):
    """No instance in the process: ``clean --engine ray`` starts a local one and shuts it down."""
    import subprocess

    files = [str(p) for p in sorted(SAMPLE.glob("*.txt"))]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cleancorpus",
            "clean",
            *files,
            "-o",
            tmp_path / "ray.jsonl",
            "--engine",
            "ray",
        ],
        capture_output=True,
        env=env,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result = run("clean", *files, "-o", tmp_path / "local.jsonl")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def _generated_corpus(root: Path, n_docs: int) -> Path:
    """The benchmark's generator (sites with template lines, Traditional, GBK, near-duplicates),
    with shorter pages to keep the test quick."""
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    for rel, data, _ in corpus.generate(n_docs, seed=11, mean_chars=220):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # Exact copies under other names: the exact-hash path of dedup.
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for k, p in enumerate(files[:: max(1, len(files) // 25)]):
        (root / "copies").mkdir(exist_ok=True)
        (root / "copies" / f"copy{k:03d}.txt").write_bytes(p.read_bytes())
    return root


@needs_ray
def test_generated_corpus_5000_documents_identical(ray_instance, run, tmp_path):
    src = _generated_corpus(tmp_path / "corpus", 5000)
    local, ray_dir = clean_both(run, [src], "out", tmp_path / "runs", "-j", "2")
    manifest = read_manifest(local / "manifest.jsonl")
    assert len(manifest) >= 5000
    # The corpus exercises every barrier, so identity is not vacuous.
    assert sum(r["status"] == "duplicate" for r in manifest) > 100
    assert sum(r["changes"].get("strip.template", 0) > 0 for r in manifest) > 100
    assert len(tree(local / "out")) == sum(r["status"] == "kept" for r in manifest)
    assert_identical(local, ray_dir)


def _dedup_jsonl(path: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    import dedup_corpus

    corpus = dedup_corpus.build(seed=3)
    rng = random.Random(5)
    lines = [
        json.dumps({"id": i, "text": t}, ensure_ascii=False)
        for i, t in zip(corpus.ids, corpus.texts, strict=True)
    ]
    for k in range(12):  # exact copies, some far from their original
        j = rng.randrange(len(corpus.ids))
        lines.insert(
            rng.randrange(len(lines)),
            json.dumps({"id": f"copy{k}", "text": corpus.texts[j]}, ensure_ascii=False),
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@needs_ray
@pytest.mark.parametrize("options", [(), ("--keep", "longest", "--threshold", "0.6")])
def test_jsonl_near_duplicates_identical(ray_instance, run, tmp_path, options):
    src = _dedup_jsonl(tmp_path / "in.jsonl")
    local, ray_dir = clean_both(run, [src], "out.jsonl", tmp_path, *options)
    manifest = read_manifest(local / "manifest.jsonl")
    assert sum(r["status"] == "duplicate" for r in manifest) > 50
    assert_identical(local, ray_dir)


@needs_ray
@pytest.mark.parametrize("command", ["dedup", "strip"])
def test_single_stage_commands_identical(ray_instance, run, tmp_path, command):
    src = _dedup_jsonl(tmp_path / "in.jsonl")
    outputs = []
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.jsonl"
        result = run(command, src, SAMPLE, "-o", out, "--engine", engine)
        assert result.exit_code == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


@needs_ray
def test_persistent_index_falls_back_identically(ray_instance, run, tmp_path):
    """With --index, dedup's barrier runs on the driver: still the local engine's results."""
    src = _dedup_jsonl(tmp_path / "in.jsonl")
    for engine in ("local", "ray"):
        base = tmp_path / engine
        base.mkdir()
        for n in (1, 2):  # the second run meets the first one's documents in the index
            result = run(
                "clean",
                src,
                "-o",
                base / f"out{n}.jsonl",
                "--manifest",
                base / f"manifest{n}.jsonl",
                "--index",
                base / "seen.npz",
                "--engine",
                engine,
            )
            assert result.exit_code == 0, result.stderr
    for name in ("out1.jsonl", "manifest1.jsonl", "out2.jsonl", "manifest2.jsonl"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), (
            name
        )
    assert all(r["status"] != "kept" for r in read_manifest(tmp_path / "ray" / "manifest2.jsonl"))


@needs_ray
def test_check_command_same_report(ray_instance, run, tmp_path):
    reports = []
    for engine in ("local", "ray"):
        result = run("check", SAMPLE, "--format", "json", "--engine", engine)
        assert result.exit_code in (0, 1), result.stderr
        report = json.loads(result.stdout)
        report.pop("throughput", None)  # timings
        reports.append(report)
    assert reports[0] == reports[1]


# ---------------------------------------------------------------------------------------------
# The engine itself, without the CLI


def _engine_docs(engine: str, docs: list[Document], stages, cfg) -> list[Document]:
    from cleancorpus.engines import ray_engine

    source = iter(docs)
    env = pipeline.RunEnv(cfg=cfg.replace({"run.jobs": 1}))
    if engine == "local":
        return list(pipeline.run(source, [pipeline.processor(s, cfg) for s in stages], env))
    return list(ray_engine.run([], source, stages, cfg, env))


@needs_ray
@pytest.mark.parametrize(
    "overrides",
    [
        {"dedup.verify": False, "dedup.candidate_window": 1},
        {"dedup.keep": "longest", "dedup.threshold": 0.5},
    ],
)
def test_dedup_verdicts_match_local(ray_instance, overrides):
    sys.path.insert(0, str(Path(__file__).parent))
    import dedup_corpus

    cfg = load_config().replace(overrides)
    corpus = dedup_corpus.build(seed=9)
    texts = list(zip(corpus.ids, corpus.texts, strict=True))
    texts += [("dup-empty-1", ""), ("dup-empty-2", "")]  # no shingles: exact path only

    def docs():
        return [Document(id=i, text=t, group="g") for i, t in texts]

    local = _engine_docs("local", docs(), ["dedup"], cfg)
    ray_docs = _engine_docs("ray", docs(), ["dedup"], cfg)
    assert [d.id for d in ray_docs] == [d.id for d in local]
    got = [(d.status, d.duplicate_of, d.cluster, d.extra) for d in ray_docs]
    want = [(d.status, d.duplicate_of, d.cluster, d.extra) for d in local]
    assert got == want
    assert sum(d.duplicate_of is not None for d in local) > 50
    assert sum(d.cluster is not None and d.duplicate_of is None for d in local) > 20


@needs_ray
def test_errors_empties_and_order_survive(ray_instance):
    """Documents that fail a step (binary bytes) or end empty keep their place and reasons."""
    cfg = load_config()
    body = "会议强调，要把各项工作落到实处，确保取得实效。\n"
    raws = []
    for i in range(600):
        if i % 97 == 3:
            raws.append(bytes(range(256)) * 4)  # binary: an error at decode
        elif i % 89 == 5:
            raws.append(b"  \n")  # empty after cleaning
        else:
            raws.append(
                (body * (1 + i % 7) + f"第{i % 50}号\n").encode("gb18030" if i % 2 else "utf-8")
            )

    def docs():
        return [Document(id=f"d{i:03d}", raw=r, group=f"g{i % 3}") for i, r in enumerate(raws)]

    stages = list(pipeline.STAGES)
    local = _engine_docs("local", docs(), stages, cfg)
    ray_docs = _engine_docs("ray", docs(), stages, cfg)
    assert {d.status for d in local} >= {"kept", "error", "empty", "duplicate"}
    assert [d.manifest() for d in ray_docs] == [d.manifest() for d in local]
    assert [d.text for d in ray_docs] == [d.text for d in local]
