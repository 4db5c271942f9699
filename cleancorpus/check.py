"""``cleancorpus check``: run the pipeline without writing, measure the dump, gate it.

The pipeline runs as ``clean`` would (same stages, options and config) but writes nothing; a
:class:`Collector` watches every finished document and keeps bounded aggregates (counts,
the largest clusters, the most damaged documents, a few texts for the HTML report). The
report is one JSON-able dict with a versioned schema (``data/check_report.schema.json``);
the table, GitHub annotations and HTML are views of it.

Rates are shares of the documents read, except the boilerplate rate, a share of lines:
removed lines / (removed lines + non-blank lines left), over the documents that reached strip.
"""

from __future__ import annotations

import heapq
import json
import math
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import click

from cleancorpus.config import ConfigError, Frozen
from cleancorpus.document import DUPLICATE, EMPTY, ERROR, KEPT, Document
from cleancorpus.io import atomic_write
from cleancorpus.report import Stats

SCHEMA_ID = "cleancorpus.check/1"
FORMATS = ("table", "json", "github")


@dataclass(frozen=True)
class Metric:
    name: str  # report key under "rates" (or "documents" for min_docs)
    key: str  # config key in [check]
    label: str  # as written in violation lines
    minimum: bool = False  # a lower bound (min_docs) instead of an upper one


METRICS = (
    Metric("dup", "max_dup_rate", "dup rate"),
    Metric("error", "max_error_rate", "error rate"),
    Metric("mojibake", "max_mojibake_rate", "mojibake rate"),
    Metric("empty", "max_empty_rate", "empty rate"),
    Metric("boilerplate", "max_boilerplate_rate", "boilerplate rate"),
    Metric("documents", "min_docs", "documents", minimum=True),
)


def schema() -> dict[str, Any]:
    """The JSON Schema (a small subset of draft 2020-12) of the report ``check`` writes."""
    text = (
        resources.files("cleancorpus").joinpath("data/check_report.schema.json").read_text("utf-8")
    )
    return json.loads(text)


# ---------------------------------------------------------------------------------------------
# Collecting


@dataclass
class _Cluster:
    size: int = 0
    ids: list[str] = field(default_factory=list)
    order: int = 0  # first appearance, for stable ties


@dataclass
class _Pooled:
    # (id, truncated text) of the first member seen, and of another one: one that differs
    # from the first as soon as such a member arrives (an identical pair shows no difference).
    first: tuple[str, str]
    other: tuple[str, str] | None = None
    differs: bool = False


class Collector:
    """Aggregates finished documents into what the report needs, in memory bounded by the
    ``[check]`` sizes (per cluster: a count and at most ``cluster_ids`` ids), never by text."""

    def __init__(self, cfg: Frozen) -> None:
        self.cfg = cfg
        self.damage_names = frozenset(cfg["damage_changes"])
        self.damage_repairs = frozenset(cfg["damage_repairs"])
        self.repair_prefixes = tuple(cfg["repair_prefixes"])
        self.rule_prefixes = tuple(cfg["rule_prefixes"])
        self.ignore = frozenset(cfg["boilerplate_ignore"])
        self.listed = int(cfg["listed_documents"])
        self.seq = 0
        self.damaged = 0
        self.removed_lines = 0
        self.kept_lines = 0
        self.within = 0
        self.history = 0
        self.clusters: dict[str, _Cluster] = {}
        self.history_matches: list[tuple[str, str, str | None]] = []
        self.errors: list[tuple[str, str | None, str]] = []
        self.empty: list[tuple[str, str | None]] = []
        self.duplicates: list[tuple[str, str | None, str]] = []  # within the dump
        self.damaged_docs: list[tuple[int, int, int, str, str | None, dict[str, int]]] = []
        self.pool: dict[str, _Pooled] = {}
        self.pool_size = int(cfg["html_pool"])
        self.text_chars = int(cfg["html_max_chars"])

    def add(self, doc: Document) -> None:
        self.seq += 1
        changes = doc.changes
        if doc.status == ERROR:
            self._list(self.errors, (doc.id, doc.path, doc.error or "error"))
        elif doc.status == EMPTY:
            self._list(self.empty, (doc.id, doc.path))
        if doc.text is not None and doc.status != ERROR:
            removed = sum(
                n
                for name, n in changes.items()
                if name.startswith(self.rule_prefixes) and name not in self.ignore
            )
            self.removed_lines += removed
            self.kept_lines += sum(1 for line in doc.text.splitlines() if line.strip())
        damage = sum(changes[name] for name in self.damage_names if changes.get(name, 0) > 0)
        repairs = sum(changes[name] for name in self.damage_repairs if changes.get(name, 0) > 0)
        if damage:
            self.damaged += 1
        if damage or repairs:
            # Keep the top N: a min-heap whose root is the least damaged; ties favour input order.
            entry = (damage, repairs, -self.seq, doc.id, doc.path, dict(sorted(changes.items())))
            if len(self.damaged_docs) < int(self.cfg["top_damaged"]):
                heapq.heappush(self.damaged_docs, entry)
            elif entry[:3] > self.damaged_docs[0][:3]:
                heapq.heapreplace(self.damaged_docs, entry)
        if doc.status == DUPLICATE:
            if changes.get("dedup.historical", 0) > 0:
                self.history += 1
                self._list(self.history_matches, (doc.id, doc.path, doc.duplicate_of or ""))
            else:
                self.within += 1
                self._list(self.duplicates, (doc.id, doc.path, doc.duplicate_of or ""))
        if doc.cluster is not None and not (
            doc.status == DUPLICATE and changes.get("dedup.historical", 0) > 0
        ):
            self._cluster(doc)

    def _list(self, target: list[Any], item: Any) -> None:
        if len(target) < self.listed:
            target.append(item)

    def _cluster(self, doc: Document) -> None:
        cluster = self.clusters.get(doc.cluster or "")
        if cluster is None:
            cluster = self.clusters[doc.cluster or ""] = _Cluster(order=len(self.clusters))
        cluster.size += 1
        if len(cluster.ids) < int(self.cfg["cluster_ids"]):
            cluster.ids.append(doc.id)
        self._pool(doc.cluster or "", cluster, doc)

    def _pool(self, name: str, cluster: _Cluster, doc: Document) -> None:
        """Keep two texts of each of the (so far) largest clusters for the HTML report.

        Clusters grow in input order, so a cluster evicted while small may grow later: it then
        re-enters with its next two members (any two members of a cluster are near-duplicates).
        """
        if self.pool_size <= 0 or doc.text is None:
            return
        text = doc.text[: self.text_chars]
        pooled = self.pool.get(name)
        if pooled is None:
            if len(self.pool) >= self.pool_size:
                smallest = min(
                    self.pool, key=lambda c: (self.clusters[c].size, -self.clusters[c].order)
                )
                if self.clusters[smallest].size > cluster.size:
                    return
                del self.pool[smallest]
            self.pool[name] = _Pooled((doc.id, text))
        elif pooled.other is None or (not pooled.differs and text != pooled.first[1]):
            pooled.other = (doc.id, text)
            pooled.differs = text != pooled.first[1]

    # ---- the report ----------------------------------------------------------------------

    def report(
        self, stats: Stats, inputs: Sequence[str], stages: Sequence[str], index: str | None
    ) -> dict[str, Any]:
        """The JSON report (schema ``cleancorpus.check/1``) for a finished run."""
        cfg = self.cfg
        total = stats.total
        statuses = {s: stats.statuses[s] for s in (KEPT, DUPLICATE, EMPTY, ERROR)}

        def share(n: int, d: int) -> float:
            return round(n / d, 6) if d else 0.0

        lines = self.removed_lines + self.kept_lines
        rates = {
            "dup": share(statuses[DUPLICATE], total),
            "dup_within": share(self.within, total),
            "dup_history": share(self.history, total),
            "error": share(statuses[ERROR], total),
            "mojibake": share(self.damaged, total),
            "empty": share(statuses[EMPTY], total),
            "boilerplate": share(self.removed_lines, lines),
        }
        thresholds = {m.key: cfg[m.key] for m in METRICS}
        violations = []
        for m in METRICS:
            value = total if m.minimum else rates[m.name]
            limit = cfg[m.key]
            if (value < limit) if m.minimum else (value > limit):
                violations.append(
                    {
                        "metric": m.name if m.minimum else f"{m.name}_rate",
                        "value": value,
                        "limit": limit,
                        "message": _violation(m, value, limit),
                    }
                )

        def changes(select: Any) -> dict[str, dict[str, int]]:
            return {
                name: {"count": count, "documents": stats.docs_changed[name]}
                for name, count in sorted(stats.changes.items())
                if select(name)
            }

        is_repair = lambda name: name.startswith(self.repair_prefixes)  # noqa: E731
        is_rule = lambda name: name.startswith(self.rule_prefixes)  # noqa: E731
        multi = [(name, c) for name, c in self.clusters.items() if c.size >= 2]
        multi.sort(key=lambda nc: (-nc[1].size, nc[1].order))
        seconds = round(stats.seconds, 3)
        return {
            "schema": SCHEMA_ID,
            "passed": not violations,
            "violations": violations,
            "thresholds": thresholds,
            "inputs": list(inputs),
            "stages": list(stages),
            "documents": total,
            "status": statuses,
            "rates": rates,
            "encodings": dict(sorted(stats.encodings.items(), key=lambda kv: (-kv[1], kv[0]))),
            "repairs": changes(lambda n: is_repair(n) and n not in self.damage_names),
            "rules": changes(is_rule),
            "other_changes": changes(
                lambda n: not is_repair(n) and not is_rule(n) and n not in self.damage_names
            ),
            "boilerplate": {"removed_lines": self.removed_lines, "kept_lines": self.kept_lines},
            "duplicates": {
                "total": statuses[DUPLICATE],
                "within_dump": self.within,
                "history": self.history,
                "index": index,
                "clusters": len(multi),
                "largest_clusters": [
                    {
                        "id": name,
                        "size": c.size,
                        "members": list(c.ids),
                        "members_truncated": c.size > len(c.ids),
                    }
                    for name, c in multi[: int(cfg["top_clusters"])]
                ],
                "within_dump_matches": [
                    {"id": i, "path": p, "duplicate_of": d} for i, p, d in self.duplicates
                ],
                "history_matches": [
                    {"id": i, "path": p, "duplicate_of": d} for i, p, d in self.history_matches
                ],
            },
            "damage": {
                "documents": self.damaged,
                "changes": sorted(self.damage_names),
                "counts": changes(lambda n: n in self.damage_names),
                "most_damaged": [
                    {"id": e[3], "path": e[4], "damage": e[0], "repaired": e[1], "changes": e[5]}
                    for e in sorted(self.damaged_docs, reverse=True)
                ],
            },
            "errors": [{"id": i, "path": p, "error": e} for i, p, e in self.errors],
            "empty": [{"id": i, "path": p} for i, p in self.empty],
            "throughput": {
                "seconds": seconds,
                "documents_per_second": round(total / stats.seconds, 1) if stats.seconds else 0.0,
                "chars_in": stats.chars_in,
                "chars_out": stats.chars_out,
                "chars_per_second": round(stats.chars_in / stats.seconds) if stats.seconds else 0,
            },
        }

    def cluster_texts(self, report: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The largest clusters with two members' texts each, for the HTML report."""
        shown = []
        for cluster in report["duplicates"]["largest_clusters"]:
            pooled = self.pool.get(cluster["id"])
            if pooled is not None and pooled.other is not None:
                shown.append({**cluster, "texts": [pooled.first, pooled.other]})
            if len(shown) >= int(self.cfg["html_clusters"]):
                break
        return shown


def _pct(x: float, decimals: int) -> str:
    return f"{x * 100:.{decimals}f}%"


def _violation(m: Metric, value: float, limit: float) -> str:
    if m.minimum:
        return f"{m.label} {value} < {limit}"
    # Enough decimals that the two sides never print equal (5.04% > 5.0% would read 5.0% > 5.0%).
    decimals = 1
    while decimals < 6 and _pct(value, decimals) == _pct(limit, decimals):
        decimals += 1
    return f"{m.label} {_pct(value, decimals)} > {_pct(limit, decimals)}"


# ---------------------------------------------------------------------------------------------
# Validating reports (jsonschema is not a dependency; this covers the subset our schema uses)


def validate(instance: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Errors (``"$.rates.dup: expected number"``) of ``instance`` against a JSON Schema that uses
    only type, const, enum, minimum, maximum, properties, required, additionalProperties, items."""
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(instance, t) for t in names):
            return [f"{path}: expected {'|'.join(names)}, got {type(instance).__name__}"]
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} not in {schema['enum']!r}")
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{path}: {instance} < minimum {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{path}: {instance} > maximum {schema['maximum']}")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"{path}: missing required key {key!r}")
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in props:
                errors.extend(validate(value, props[key], f"{path}.{key}"))
            elif extra is False:
                errors.append(f"{path}: unexpected key {key!r}")
            elif isinstance(extra, Mapping):
                errors.extend(validate(value, extra, f"{path}.{key}"))
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            errors.extend(validate(item, schema["items"], f"{path}[{i}]"))
    return errors


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    return isinstance(
        value,
        {"string": str, "boolean": bool, "null": type(None), "object": dict, "array": list}[name],
    )


# ---------------------------------------------------------------------------------------------
# Views: table, GitHub annotations


def print_table(report: Mapping[str, Any], console: Any) -> None:
    """The report as rich tables (``--format table``)."""
    from rich.markup import escape
    from rich.table import Table

    verdict = "[bold green]passed[/]" if report["passed"] else "[bold red]FAILED[/]"
    gate = Table(title=f"cleancorpus check: {verdict}", header_style="bold")
    gate.add_column("metric")
    gate.add_column("value", justify="right")
    gate.add_column("limit", justify="right")
    gate.add_column("")
    failed = {v["metric"] for v in report["violations"]}
    th, rates = report["thresholds"], report["rates"]
    for m in METRICS:
        metric = m.name if m.minimum else f"{m.name}_rate"
        mark = "[red]✗[/]" if metric in failed else "[green]✓[/]"
        if m.minimum:
            gate.add_row(m.label, f"{report['documents']:,}", f">= {th[m.key]:,}", mark)
        else:
            gate.add_row(m.label, _pct(rates[m.name], 2), f"<= {_pct(th[m.key], 1)}", mark)
    dup = report["duplicates"]
    gate.caption = (
        f"duplicates: {dup['within_dump']} within the dump, {dup['history']} of history"
        + (f" (index {escape(dup['index'])})" if dup["index"] else "")
    )
    console.print(gate)

    def counts(title: str, rows: Iterable[tuple[str, Any, Any]], cols: Sequence[str]) -> None:
        rows = list(rows)
        if not rows:
            return
        table = Table(title=title, header_style="bold")
        for n, col in enumerate(cols):
            table.add_column(col, justify="left" if n == 0 else "right")
        for row in rows:
            table.add_row(*(escape(str(x)) for x in row if x is not None))
        console.print(table)

    counts(
        "documents", ((s, n, None) for s, n in report["status"].items()), ["status", "documents"]
    )
    counts(
        "encodings",
        ((e, n, None) for e, n in report["encodings"].items()),
        ["encoding", "documents"],
    )
    for key, title in (("repairs", "repairs"), ("rules", "boilerplate rules")):
        rows = sorted(report[key].items(), key=lambda kv: (-kv[1]["count"], kv[0]))
        counts(
            title, ((n, v["count"], v["documents"]) for n, v in rows), [title, "count", "documents"]
        )
    counts(
        "largest duplicate clusters",
        (
            (
                c["id"],
                c["size"],
                ", ".join(c["members"][:5]) + (" ..." if len(c["members"]) > 5 else ""),
            )
            for c in dup["largest_clusters"]
        ),
        ["kept", "size", "members"],
    )
    counts(
        "most damaged documents",
        ((d["id"], d["damage"], d["repaired"]) for d in report["damage"]["most_damaged"]),
        ["document", "unrepairable", "repaired"],
    )
    t = report["throughput"]
    console.print(
        f"{report['documents']:,} documents, {t['chars_in']:,} chars in {t['seconds']:.2f} s: "
        f"{t['documents_per_second']:,.0f} docs/s, {t['chars_per_second']:,} chars/s"
    )


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _annotation(level: str, message: str, path: str | None = None, title: str | None = None) -> str:
    props = []
    if path:
        props.append(f"file={_escape_prop(path)}")
    if title:
        props.append(f"title={_escape_prop(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(message)}"


def github_lines(report: Mapping[str, Any], limit: int) -> list[str]:
    """GitHub Actions workflow commands: one ``::error`` per violated threshold, then the
    offending documents, as ``::error`` when their threshold failed, ``::warning`` otherwise."""
    failed = {v["metric"] for v in report["violations"]}
    out = [
        _annotation("error", v["message"], title="cleancorpus check") for v in report["violations"]
    ]

    def level(metric: str) -> str:
        return "error" if metric in failed else "warning"

    for d in report["errors"][:limit]:
        out.append(
            _annotation(
                level("error_rate"),
                f"{d['id']}: unreadable document: {d['error']}",
                d["path"],
                "cleancorpus: error",
            )
        )
    for d in report["empty"][:limit]:
        out.append(
            _annotation(
                level("empty_rate"),
                f"{d['id']}: empty after cleaning",
                d["path"],
                "cleancorpus: empty",
            )
        )
    for d in report["damage"]["most_damaged"][:limit]:
        if d["damage"]:
            out.append(
                _annotation(
                    level("mojibake_rate"),
                    f"{d['id']}: {d['damage']} unrepairable characters or runs",
                    d["path"],
                    "cleancorpus: damaged",
                )
            )
    dup = report["duplicates"]
    for d in dup["within_dump_matches"][:limit]:
        out.append(
            _annotation(
                level("dup_rate"),
                f"{d['id']}: duplicate of {d['duplicate_of']}",
                d["path"],
                "cleancorpus: duplicate",
            )
        )
    for d in dup["history_matches"][:limit]:
        out.append(
            _annotation(
                level("dup_rate"),
                f"{d['id']}: duplicate of {d['duplicate_of']} (seen in an earlier dump)",
                d["path"],
                "cleancorpus: duplicate of history",
            )
        )
    rates = report["rates"]
    out.append(
        _annotation(
            "notice",
            f"{report['documents']} documents: dup {_pct(rates['dup'], 1)}, error {_pct(rates['error'], 1)}, "
            f"mojibake {_pct(rates['mojibake'], 1)}, empty {_pct(rates['empty'], 1)}, "
            f"boilerplate {_pct(rates['boilerplate'], 1)}: "
            + ("passed" if report["passed"] else "FAILED"),
            title="cleancorpus check",
        )
    )
    return out


# ---------------------------------------------------------------------------------------------
# The command


_RATE = click.FloatRange(0.0, 1.0)


def _check_options(fn: Any) -> Any:
    decls = [
        (
            "--max-dup-rate",
            "max_dup_rate",
            _RATE,
            "Highest share of duplicates (within the dump and of history).",
        ),
        (
            "--max-error-rate",
            "max_error_rate",
            _RATE,
            "Highest share of documents with status error.",
        ),
        (
            "--max-mojibake-rate",
            "max_mojibake_rate",
            _RATE,
            "Highest share of documents with unrepairable damage.",
        ),
        ("--max-empty-rate", "max_empty_rate", _RATE, "Highest share of documents left empty."),
        (
            "--max-boilerplate-rate",
            "max_boilerplate_rate",
            _RATE,
            "Highest share of lines removed as boilerplate.",
        ),
        ("--min-docs", "min_docs", click.IntRange(0), "Fewest documents the dump must have."),
    ]
    extra = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            help="stdout: table (default on a terminal), json (default otherwise), github.",
        ),
        click.option(
            "--report",
            "report_file",
            type=click.Path(dir_okay=False, writable=True),
            help="Also write the JSON report to this file.",
        ),
        click.option(
            "--html",
            "html_file",
            type=click.Path(dir_okay=False, writable=True),
            help="Write a self-contained HTML report to this file.",
        ),
        click.option(
            "--update-index",
            is_flag=True,
            help="Add this dump to the --index (by default check leaves the index unchanged).",
        ),
    ]
    for opt in reversed(extra):
        fn = opt(fn)
    for decl, dest, typ, text in reversed(decls):
        fn = click.option(decl, dest, type=typ, default=None, help=text + f" [check.{dest}]")(fn)
    return fn


CHECK_KEYS = tuple(m.key for m in METRICS)
GROUPS = ["read", "decode", "fix", "convert", "strip", "filter", "dedup", "run"]


def register(group: click.Group) -> None:
    """Add the ``check`` command to the CLI group (called by cleancorpus.cli at import)."""
    from cleancorpus import cli as cli_mod

    @group.command("check")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
    @_check_options
    @cli_mod.options(*GROUPS)
    def check(
        paths: tuple[str, ...],
        fmt: str | None,
        report_file: str | None,
        html_file: str | None,
        update_index: bool,
        **values: Any,
    ) -> None:
        """Gate a dump: run every stage without writing, report, exit 1 if a limit is exceeded.

        \b
        cleancorpus check dump/ --max-dup-rate 0.05 --max-error-rate 0.01 --report check.json
        cleancorpus check new_dump/ --index seen.npz --format github --html report.html

        Exit codes: 0 within every limit, 1 a limit exceeded (one line per violation on
        stderr), 2 usage error.
        """
        run_check(list(paths), values, fmt, report_file, html_file, update_index)


def run_check(
    paths: list[str],
    values: dict[str, Any],
    fmt: str | None,
    report_file: str | None,
    html_file: str | None,
    update_index: bool,
) -> dict[str, Any]:
    """The ``check`` command: run, report on stdout (and files), exit 1 on a violated limit."""
    from rich.console import Console

    from cleancorpus import cli as cli_mod
    from cleancorpus import pipeline

    # execute() would exit on --strict before the report is out: check applies it afterwards.
    strict = bool(values.get("strict"))
    values = {k: v for k, v in values.items() if k not in ("output", "strict")}
    given = {f"check.{k}": values.pop(k) for k in CHECK_KEYS if values.get(k) is not None}
    job = cli_mod.Job(paths, [], values, list(GROUPS))
    cfg = job.config()
    try:
        cfg = cfg.replace(given)
    except ConfigError as exc:
        raise cli_mod.UserError(str(exc)) from None
    ccfg = cfg["check"]
    _validate_config(ccfg, cli_mod.UserError)
    fmt = fmt or ccfg["format"]
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "json"
    job.stages = cli_mod._stages(pipeline.STAGES, cfg)
    _require_stages(ccfg, job.stages, cli_mod.UserError)
    cli_mod.check_side_outputs(
        paths,
        {
            "--report": report_file,
            "--html": html_file,
            "--manifest": values.get("manifest"),
            "--index": values.get("index"),
        },
    )
    collector = Collector(ccfg)
    index = values.get("index")
    if update_index and not index:
        raise cli_mod.UserError("--update-index needs --index PATH")
    with tempfile.TemporaryDirectory(prefix="cleancorpus-check-") as tmp:
        if index and not update_index:
            job.values = {
                **job.values,
                "index": _private_index(index, Path(tmp), cli_mod.UserError),
            }
        stats = cli_mod.execute(job, observe=collector.add, summary=False)
    report = collector.report(stats, paths, job.stages, index)
    if report_file:
        _write(
            report_file, json.dumps(report, ensure_ascii=False, indent=2) + "\n", cli_mod.UserError
        )
    if html_file:
        from cleancorpus.html_report import render

        _write(html_file, render(report, collector.cluster_texts(report)), cli_mod.UserError)
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    elif fmt == "github":
        for line in github_lines(report, int(ccfg["github_annotations"])):
            click.echo(line)
    else:
        print_table(report, Console(highlight=False, soft_wrap=True))
    for v in report["violations"]:
        click.echo(v["message"], err=True)
    if strict and report["status"][ERROR]:
        click.echo(f"{report['status'][ERROR]} documents are errors (--strict)", err=True)
    if report["violations"] or (strict and report["status"][ERROR]):
        raise click.exceptions.Exit(1)
    return report


def _validate_config(ccfg: Frozen, error: type[Exception]) -> None:
    for m in METRICS:
        value = ccfg[m.key]
        if m.minimum and value < 0:
            raise error(f"config key 'check.{m.key}' must be >= 0, got {value}")
        if not m.minimum and not 0.0 <= value <= 1.0:
            raise error(f"config key 'check.{m.key}' must be between 0 and 1, got {value}")
    if ccfg["format"] not in ("auto", *FORMATS):
        raise error(
            f"config key 'check.format' must be auto, table, json or github, got {ccfg['format']!r}"
        )


def _require_stages(ccfg: Frozen, stages: Sequence[str], error: type[Exception]) -> None:
    """A limit that cannot be measured (its stage is disabled or not in this build) would pass
    silently, so setting one is a usage error."""
    needs = {
        "max_dup_rate": {"dedup"},
        "max_empty_rate": {"filter"},
        "max_boilerplate_rate": {name.split(".")[0] for name in ccfg["rule_prefixes"]},
        "max_mojibake_rate": {name.split(".")[0] for name in ccfg["damage_changes"]},
    }
    for key, wanted in needs.items():
        if ccfg[key] < 1.0 and not wanted & set(stages):
            raise error(
                f"check.{key} is set but {' or '.join(sorted(wanted)) or 'no stage'} does not run "
                "(disabled in the config, or not in this build)"
            )


def _private_index(index: str, tmp: Path, error: type[Exception]) -> str:
    """A copy of a file index for this run: dedup saves the index after matching, and a check
    must leave history as it found it (a re-run would otherwise see its own dump as history)."""
    if index.startswith("redis://"):
        raise error(
            f"check cannot use the Redis index {index} without adding this dump to it; "
            "pass --update-index to allow that"
        )
    source = Path(index)
    copy = tmp / (source.name or "index.npz")
    if source.is_file():
        shutil.copyfile(source, copy)
    elif source.exists():
        raise error(f"dedup index {index} is not a file")
    return str(copy)


def _write(path: str, text: str, error: type[Exception]) -> None:
    try:
        if not Path(path).parent.is_dir():  # as open() would: no directories made for it
            raise FileNotFoundError(2, "No such file or directory")
        # Atomic: a run that fails half way leaves the previous report as it was. Lone
        # surrogates (ids from non-UTF-8 file names) are written as JSON escapes.
        atomic_write(Path(path), text.encode("utf-8", "backslashreplace"))
    except OSError as exc:
        raise error(f"cannot write {path}: {exc.strerror or exc}") from None
