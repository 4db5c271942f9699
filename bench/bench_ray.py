"""`clean --engine ray` next to `--engine local` on the benchmark corpus (figures, never asserted).

Both engines run the full `clean` as a subprocess on the same generated corpus; the Ray run
starts (and stops) its own local instance, so its figure includes Ray's start-up, reported
separately from a run on an already running instance. The outputs are compared too: the
engines must agree byte for byte.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

CLI = str(Path(sys.executable).parent / "cleancorpus")


def clean(src: Path, out: Path, *options: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [CLI, "clean", "-q", str(src), "-o", str(out), "--manifest", f"{out}.manifest", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(proc.stderr.decode()[-2000:], file=sys.stderr)
    return seconds


def warm_run(src: Path) -> tuple[float, list[float]]:
    """Seconds to start a local Ray instance, then for two runs on it: the first pays for the
    workers' imports and stage set-up (OpenCC, rules), the second finds them ready."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    from cleancorpus import pipeline
    from cleancorpus.config import load_config
    from cleancorpus.engines import ray_engine
    from cleancorpus.io import read_documents

    start = time.perf_counter()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=500 << 20,
        log_to_driver=False,
        logging_level="WARNING",
    )
    started = time.perf_counter() - start
    try:
        cfg = load_config()
        stages = list(pipeline.STAGES)
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            env = pipeline.RunEnv(cfg=cfg.replace({"run.jobs": 2}))
            docs = read_documents([str(src)], cfg["io"])
            n = sum(1 for _ in ray_engine.run([str(src)], docs, stages, cfg, env))
            seconds.append(time.perf_counter() - start)
            assert n > 0
    finally:
        ray.shutdown()
    return started, seconds


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=4000, help="documents in the generated corpus")
    args = parser.parse_args()
    if importlib.util.find_spec("ray") is None:
        print("  Ray is not installed (pip install 'cleancorpus[ray]'): skipped")
        return
    n, nbytes = corpus.write_corpus(HERE / "_corpus" / f"pages-{args.docs}", args.docs)
    src = HERE / "_corpus" / f"pages-{args.docs}"
    print(f"  corpus: {n:,} documents, {nbytes / 1e6:.1f} MB; all stages; {os.cpu_count()} cores")

    def row(label: str, seconds: float) -> None:
        print(
            f"  {label:<44} {seconds:7.2f} s {n / seconds:8,.0f} docs/s {nbytes / seconds / 1e6:6.2f} MB/s"
        )

    with tempfile.TemporaryDirectory() as tmp:
        outs = {}
        for label, options in [
            ("clean --engine local -j 1", ("-j", "1")),
            ("clean --engine local -j 2", ("-j", "2")),
            ("clean --engine ray (local instance, 2 CPUs)", ("--engine", "ray")),
        ]:
            out = Path(tmp) / label.replace(" ", "_")
            row(label, clean(src, out, *options))
            outs[label] = out
        started, seconds = warm_run(src)
        print(f"  {'ray instance start-up':<44} {started:7.2f} s")
        row("ray engine, running instance, new workers", seconds[0])
        row("ray engine, running instance, warm workers", seconds[1])
        local, ray_out = (
            outs["clean --engine local -j 2"],
            outs["clean --engine ray (local instance, 2 CPUs)"],
        )
        same = (
            files(local) == files(ray_out)
            and Path(f"{local}.manifest").read_bytes() == Path(f"{ray_out}.manifest").read_bytes()
        )
        print(f"  outputs and manifests identical across engines: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
