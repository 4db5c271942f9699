"""The command line: a thin Click layer over pipeline.run.

Each stage's options are declared once (``OPTIONS``) and reused by its chained ``pipe``
command, its single-stage command and the ``clean`` preset. An option maps to a config key;
given on the command line it overrides ``--config FILE``, which overrides config/default.toml.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cleancorpus import check, pipeline
from cleancorpus.config import ConfigError, Frozen, load_config
from cleancorpus.dedup import DedupIndexError
from cleancorpus.document import ERROR, Document
from cleancorpus.io import (
    InputError,
    ManifestWriter,
    Writer,
    check_output,
    is_jsonl,
    read_documents,
)
from cleancorpus.report import Stats, print_errors, print_summary


class UserError(click.ClickException):
    """A usage problem: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"cleancorpus: error: {self.format_message()}", err=True)


class RunFailed(UserError):
    """The run could not complete (e.g. the dedup index is locked): one line, exit code 1."""

    exit_code = 1


# ---------------------------------------------------------------------------------------------
# Options, declared once


@dataclass(frozen=True)
class Opt:
    decls: tuple[str, ...]
    key: str | None = None  # the config key it overrides; None: handled by the command itself
    extend: bool = False  # a repeatable option that adds to the configured list
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return click.Option(list(self.decls)).name or ""

    def decorator(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        kwargs = dict(self.kwargs)
        if not kwargs.get("is_flag") and not kwargs.get("multiple"):
            kwargs.setdefault("default", None)
        return click.option(*self.decls, **kwargs)


def _opt(*decls: str, key: str | None = None, extend: bool = False, **kwargs: Any) -> Opt:
    return Opt(decls, key, extend, kwargs)


def _not_nan(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    # FloatRange lets NaN through: every comparison with it is false.
    if value is not None and math.isnan(value):
        raise click.BadParameter("nan is not a number")
    return value


OPTIONS: dict[str, list[Opt]] = {
    "read": [
        _opt(
            "--include",
            key="io.include",
            multiple=True,
            help="Only files matching this glob (relative path).",
        ),
        _opt(
            "--exclude",
            key="io.exclude",
            extend=True,
            multiple=True,
            help="Skip files matching this glob.",
        ),
        _opt("--text-field", key="io.text_field", help="JSONL field holding the text [text]."),
        _opt("--id-field", key="io.id_field", help="JSONL field holding the id [id]."),
        _opt(
            "--max-bytes",
            key="io.max_bytes",
            type=click.IntRange(1),
            help="Larger documents are errors.",
        ),
    ],
    "decode": [],
    "fix": [],
    "convert": [
        _opt(
            "--to",
            "convert_to",
            key="convert.config",
            metavar="OPENCC",
            help="OpenCC conversion (t2s, tw2s, hk2s, s2t, ..., none), or the path of a configuration file [t2s].",
        ),
    ],
    "strip": [
        _opt(
            "--rules",
            key="strip.extra_rules_files",
            extend=True,
            multiple=True,
            type=click.Path(exists=True, dir_okay=False),
            help="Extra boilerplate rule file (TOML).",
        ),
    ],
    "filter": [
        _opt(
            "--min-chars",
            key="filter.min_chars",
            type=click.IntRange(0),
            help="Documents shorter than this after cleaning are 'empty'.",
        ),
    ],
    "dedup": [
        _opt(
            "--threshold",
            key="dedup.threshold",
            type=click.FloatRange(0.0, 1.0, min_open=True),
            callback=_not_nan,
            help="Jaccard similarity for near-duplicates [0.8].",
        ),
        _opt(
            "--keep",
            key="dedup.keep",
            type=click.Choice(["first", "longest"]),
            help="Which member of a duplicate cluster is kept [first].",
        ),
        _opt("--index", help="Persistent dedup index: a file PATH or redis://HOST:PORT/DB."),
        _opt(
            "--lock-timeout",
            type=click.FloatRange(0),
            callback=_not_nan,
            help="Seconds to wait for a locked index.",
        ),
    ],
    "run": [
        _opt(
            "--config",
            "config_file",
            type=click.Path(exists=True, dir_okay=False),
            help="TOML file overriding config/default.toml key by key.",
        ),
        _opt(
            "-j",
            "--jobs",
            key="run.jobs",
            type=click.IntRange(0),
            help="Worker processes (0: all cores).",
        ),
        _opt(
            "--engine",
            type=click.Choice(["local", "ray"]),
            default="local",
            show_default=True,
            help="Run on this machine's processes, or on a Ray cluster.",
        ),
        _opt(
            "--ray-address",
            help="Ray cluster to use ('auto', 'ray://HOST:PORT'); default: a local one.",
        ),
        _opt("--strict", is_flag=True, help="Exit 1 if any document is an error."),
        _opt("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors."),
        _opt("-v", "--verbose", is_flag=True, help="Show tracebacks for unexpected failures."),
    ],
    "write": [
        _opt(
            "-o",
            "--output",
            default="-",
            show_default=True,
            help="Directory, FILE.jsonl[.gz], or - for JSON Lines on stdout.",
        ),
        _opt("--overwrite", is_flag=True, help="Write into a non-empty directory or over a file."),
        _opt(
            "--manifest",
            type=click.Path(dir_okay=False),
            help="Write one JSON line per input document.",
        ),
    ],
}


def options(*groups: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Apply the options of the named groups to a command."""

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for group in reversed(groups):
            for opt in reversed(OPTIONS[group]):
                fn = opt.decorator()(fn)
        return fn

    return apply


def overrides(
    groups: Iterable[str], values: dict[str, Any], base: Frozen | None = None
) -> dict[str, Any]:
    """Config overrides from the options of ``groups`` that were given."""
    result: dict[str, Any] = {}
    defaults = base or load_config()
    for group in groups:
        for opt in OPTIONS[group]:
            value = values.get(opt.dest)
            if opt.key is None or value is None or value == ():
                continue
            if opt.extend:
                value = [*defaults.get_path(opt.key), *value]
            elif isinstance(value, tuple):
                value = list(value)
            result[opt.key] = value
    return result


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class Job:
    inputs: list[str]
    stages: list[str]
    values: dict[str, Any]  # every option's value, by destination name
    groups: list[str]
    _cfg: Frozen | None = field(default=None, repr=False)

    def config(self) -> Frozen:
        """The run's configuration, checked for the job's stages; built once, so that the
        stages' caches of compiled settings see one object."""
        try:
            if self._cfg is None:
                base = load_config(self.values.get("config_file"))
                self._cfg = base.replace(overrides(self.groups, self.values, base))
            pipeline.check_config(self._cfg, self.stages)
            return self._cfg
        except ConfigError as exc:
            raise UserError(str(exc)) from None


@contextlib.contextmanager
def _progress(enabled: bool, console: Console) -> Iterator[Callable[[Document], None]]:
    if not enabled:
        yield lambda doc: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} documents"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("cleaning", total=None)
        yield lambda doc: progress.advance(task)


def execute(
    job: Job, observe: Callable[[Document], None] | None = None, summary: bool = True
) -> Stats:
    """Run a job end to end: read, stages, write, manifest, summary. Returns the statistics.

    With ``values["output"]`` None nothing is written (``check``); ``observe`` sees every
    document after its last stage; ``summary`` False leaves the reporting to the caller.
    """
    values = job.values
    cfg = job.config()
    output = values.get("output")
    try:
        if output is not None:
            check_output(output, job.inputs, bool(values.get("overwrite")))
    except InputError as exc:
        raise UserError(str(exc)) from None
    check_side_outputs(
        job.inputs,
        {
            "-o": output if output is not None and is_jsonl(output) else None,
            "--manifest": values.get("manifest"),
            "--index": values.get("index"),
        },
    )
    quiet = bool(values.get("quiet"))
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    env = pipeline.RunEnv(
        cfg=cfg, index=values.get("index"), lock_timeout=values.get("lock_timeout")
    )
    stats = Stats()
    try:
        with (
            # The manifest appears only if the output does: it is closed after it.
            ManifestWriter(values.get("manifest")) as manifest,
            Writer(output, cfg["io"]) if output is not None else contextlib.nullcontext() as writer,
            _progress(console.is_terminal and not quiet, console) as tick,
        ):

            def source() -> Iterator[Document]:
                for doc in read_documents(job.inputs, cfg["io"]):
                    tick(doc)
                    yield doc

            def write(stream: Iterator[Document]) -> Iterator[Document]:
                for doc in stream:
                    if writer is not None:
                        writer.write(doc)
                    yield doc

            for doc in write(_engine(values)(job.inputs, source(), job.stages, cfg, env)):
                manifest.write(doc)
                stats.add(doc)
                if observe is not None:
                    observe(doc)
    except InputError as exc:
        raise UserError(str(exc)) from None
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    except DedupIndexError as exc:  # a locked or unreadable index: the run as a whole failed
        raise RunFailed(str(exc)) from None
    stats.finish()
    if quiet:
        print_errors(stats, console)
    elif summary:
        print_summary(stats, console)
    if values.get("strict") and stats.statuses[ERROR]:
        raise RunFailed(f"{stats.statuses[ERROR]} documents are errors (--strict)")
    return stats


def check_side_outputs(inputs: Iterable[str], named: dict[str, str | None]) -> None:
    """Files a run writes besides -o DIR (--manifest, --index, check's --report and --html,
    -o FILE): none may be an input, lie inside an input directory (the run would read it half
    written, or overwrite it), or be another of them."""
    roots = [(name, Path(name).resolve()) for name in inputs if name != "-"]
    seen: dict[Path, str] = {}
    for option, path in named.items():
        if not path or path == "-" or "://" in path:
            continue
        target = Path(path).resolve()
        for name, root in roots:
            if target == root or root in target.parents:
                raise UserError(
                    f"{option} {path} is input {name} or inside it; choose another path"
                )
        if target in seen:
            raise UserError(f"{option} and {seen[target]} are the same file ({path})")
        seen[target] = option


def _local(
    inputs: list[str],
    source: Iterator[Document],
    stages: list[str],
    cfg: Frozen,
    env: pipeline.RunEnv,
) -> Iterator[Document]:
    return pipeline.run(source, [pipeline.processor(stage, cfg) for stage in stages], env)


def _engine(values: dict[str, Any]) -> Callable[..., Iterator[Document]]:
    """The engine's run function: (inputs, source, stages, cfg, env) -> documents in input order."""
    if values.get("engine") != "ray":
        return _local
    try:
        from cleancorpus.engines import ray_engine
    except ImportError as exc:
        raise UserError(
            f"--engine ray needs Ray: pip install 'cleancorpus[ray]' ({exc.name or exc} is missing)"
        ) from None
    return functools.partial(ray_engine.run, address=values.get("ray_address"))


def _stages(names: Iterable[str], cfg: Frozen) -> list[str]:
    return [s for s in names if cfg.get(s, Frozen()).get("enabled", True)]


# ---------------------------------------------------------------------------------------------
# Commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cleancorpus")
def cli() -> None:
    """Clean and deduplicate scraped Chinese government and news text.

    Decode any encoding, repair mojibake, convert Traditional to Simplified, strip
    boilerplate, and drop exact and near duplicates; every input document ends with a
    status in the manifest.
    """


ALL_GROUPS = ["read", "decode", "fix", "convert", "strip", "filter", "dedup", "run", "write"]


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@options(*ALL_GROUPS)
@click.option("--no-dedup", is_flag=True, help="Skip deduplication.")
@click.option("--no-convert", is_flag=True, help="Skip script conversion.")
def clean(paths: tuple[str, ...], no_dedup: bool, no_convert: bool, **values: Any) -> None:
    """Run every stage over PATHS: decode, fix, convert, strip, filter, dedup.

    \b
    cleancorpus clean dump/ -o cleaned/ --manifest manifest.jsonl
    cat dump.jsonl | cleancorpus clean - -o - > clean.jsonl
    """
    job = Job(list(paths), [], values, ALL_GROUPS)
    cfg = job.config()
    skip = {"dedup"} if no_dedup else set()
    if no_convert:
        skip.add("convert")
    job.stages = [s for s in _stages(pipeline.STAGES, cfg) if s not in skip]
    execute(job)


def _single_stage(name: str, stages: list[str], doc: str) -> None:
    groups = ["read", "decode", name, "run", "write"]

    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
    @options(*groups)
    def command(paths: tuple[str, ...], **values: Any) -> None:
        execute(Job(list(paths), stages, values, groups))

    command.__doc__ = doc
    cli.command(name)(command)


_single_stage("fix", ["decode", "fix"], "Repair mojibake and Unicode damage (JSON Lines out).")
_single_stage("convert", ["decode", "convert"], "Convert the script with OpenCC (JSON Lines out).")
_single_stage("strip", ["decode", "strip"], "Remove boilerplate lines (JSON Lines out).")
_single_stage("filter", ["decode", "filter"], "Mark short documents 'empty' (JSON Lines out).")
_single_stage("dedup", ["decode", "dedup"], "Drop exact and near duplicates (JSON Lines out).")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@options("read")
def detect(paths: tuple[str, ...], **values: Any) -> None:
    """Print PATH<TAB>ENCODING<TAB>CONFIDENCE for each file (directories recursively)."""
    cfg = Job(list(paths), [], values, ["read"]).config()
    io_cfg = cfg["io"]
    failed = 0
    for doc in read_documents(paths, io_cfg, records=False):
        name = doc.path or doc.id
        if doc.active:
            doc = pipeline.run_one(doc, ["decode"], cfg)
        if doc.active:
            click.echo(f"{name}\t{doc.encoding}\t{doc.confidence:.2f}")
        else:
            failed += 1
            click.echo(f"{name}\terror\t0.00")
            click.echo(f"cleancorpus: {name}: {doc.error}", err=True)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@options("read", "convert", "strip", "filter")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False))
def explain(file: str, **values: Any) -> None:
    """Show what each stage changes in FILE, and the rule behind each change."""
    cfg = Job([file], [], values, ["read", "convert", "strip", "filter"]).config()
    out = Console(highlight=False, soft_wrap=True)
    for doc in read_documents([file], cfg["io"]):
        out.rule(f"[bold]{escape(doc.id)}")
        for stage in _stages(["decode", "fix", "convert", "strip", "filter"], cfg):
            before, changes_before = doc.text, doc.changes.copy()
            doc = pipeline.run_one(doc, [stage], cfg, explain=lambda lines: _show_strip(out, lines))
            changes = doc.changes - changes_before
            out.print(
                f"[bold cyan]{stage}[/]  "
                + (", ".join(f"{k}×{v}" for k, v in sorted(changes.items())) or "no change")
            )
            if stage == "decode" and doc.active:
                out.print(f"  encoding {doc.encoding}, confidence {doc.confidence:.2f}")
            elif (
                stage != "strip"
                and before is not None
                and doc.text is not None
                and before != doc.text
            ):
                _show_diff(out, before, doc.text)
            if not doc.active:
                out.print(
                    f"  status [bold]{doc.status}[/]"
                    + (f": {escape(doc.error)}" if doc.error else "")
                )
                break


def _show_diff(out: Console, before: str, after: str, limit: int = 12, width: int = 120) -> None:
    """Changed lines, each before/after pair together (blank lines left out so pairs align)."""
    a = [line for line in before.splitlines() if line.strip()]
    b = [line for line in after.splitlines() if line.strip()]
    shown = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for k in range(max(len(olds), len(news))):
            if shown >= limit:
                out.print("  [dim]...[/]")
                return
            if k < len(olds):
                out.print(f"  [red]- {escape(olds[k][:width])}[/]")
            if k < len(news):
                out.print(f"  [green]+ {escape(news[k][:width])}[/]")
            shown += 1


def _show_strip(out: Console, lines: list[tuple[str, str | None, str]]) -> None:
    for line, rule, reason in lines:
        if rule is not None:
            out.print(f"  [red]- {escape(line[:200])}[/]  [dim]{escape(rule)}: {escape(reason)}[/]")


# The chained form: cleancorpus pipe read -i A -i B decode fix strip dedup write -o OUT


@cli.group(chain=True)
@options("run")
def pipe(**values: Any) -> None:
    """Compose stages in any order: read ... write.

    \b
    cleancorpus pipe read -i dump/ decode fix convert strip filter dedup write -o out/
    """


@dataclass(frozen=True)
class PipeItem:
    kind: str  # "read", "write" or a stage name
    values: dict[str, Any]


def _pipe_command(name: str, groups: list[str], extra: Callable[[Any], Any] | None = None) -> None:
    def command(**values: Any) -> PipeItem:
        return PipeItem(name, values)

    command.__doc__ = f"The {name} step."
    decorated = options(*groups)(command)
    if extra is not None:
        decorated = extra(decorated)
    pipe.command(name)(decorated)


_pipe_command(
    "read",
    ["read"],
    click.option(
        "-i",
        "--input",
        "inputs",
        multiple=True,
        required=True,
        type=click.Path(exists=True, allow_dash=True),
        help="A file, directory or - (repeatable).",
    ),
)
for _stage in pipeline.STAGES:
    _pipe_command(_stage, [_stage] if _stage in OPTIONS else [])
_pipe_command("write", ["write"])


@pipe.result_callback()
def _run_pipe(items: list[PipeItem], **run_values: Any) -> None:
    inputs = [i for item in items if item.kind == "read" for i in item.values["inputs"]]
    if not inputs:
        raise UserError("pipe needs a 'read -i PATH' step")
    writes = [n for n, item in enumerate(items) if item.kind == "write"]
    if len(writes) > 1 or (writes and writes[0] != len(items) - 1):
        raise UserError("'write' must be the last step, and appear once")
    values: dict[str, Any] = dict(run_values)
    groups = ["run"]
    stages: list[str] = []
    for item in items:
        values.update({k: v for k, v in item.values.items() if v not in (None, ())})
        if item.kind in OPTIONS and item.kind not in groups:
            groups.append(item.kind)
        if item.kind in pipeline.STAGES:
            stages.append(item.kind)
    if "decode" not in stages:
        stages.insert(0, "decode")
    elif stages[0] != "decode":  # a stage before it would see documents without text
        raise UserError("'decode' must come before the other stages")
    values.setdefault("output", "-")  # no write step: JSON Lines on stdout, like the stage commands
    execute(Job(inputs, stages, values, groups))


check.register(cli)


def _terminate(signum: int, frame: object) -> None:
    # As Ctrl-C does: unwind, so that temporary files and worker processes are cleaned up.
    raise SystemExit(128 + signum)


def main() -> None:
    """Console entry point: one-line errors; a traceback only with -v."""
    verbose = any(a in ("-v", "--verbose") for a in sys.argv[1:])
    # Ids from non-UTF-8 file names hold lone surrogates: printed as \udcff escapes (valid
    # inside JSON strings), not a crash half way through a report.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    try:
        code = cli.main(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # one line, not Click's usage block
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"cleancorpus: error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"cleancorpus: error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
