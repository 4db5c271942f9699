"""Run statistics and the human summary printed on stderr."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cleancorpus.document import DUPLICATE, EMPTY, ERROR, KEPT, Document

STATUSES = (KEPT, DUPLICATE, EMPTY, ERROR)


@dataclass
class Stats:
    statuses: Counter[str] = field(default_factory=Counter)
    encodings: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    docs_changed: Counter[str] = field(default_factory=Counter)  # documents with each change
    errors: list[tuple[str, str]] = field(default_factory=list)
    chars_in: int = 0
    chars_out: int = 0
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def add(self, doc: Document) -> None:
        self.statuses[doc.status] += 1
        if doc.encoding:
            self.encodings[doc.encoding] += 1
        self.changes.update(doc.changes)
        self.docs_changed.update(doc.changes.keys())
        if doc.status == ERROR:
            self.errors.append((doc.id, doc.error or "error"))
        self.chars_in += doc.chars_in
        if doc.status == KEPT:
            self.chars_out += len(doc.text or "")

    def finish(self) -> Stats:
        self.seconds = time.perf_counter() - self.started
        return self

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.total,
            "status": {s: self.statuses[s] for s in STATUSES},
            "encodings": dict(sorted(self.encodings.items())),
            "changes": dict(sorted(self.changes.items())),
            "documents_changed": dict(sorted(self.docs_changed.items())),
            "chars_in": self.chars_in,
            "chars_out": self.chars_out,
            "seconds": round(self.seconds, 3),
        }


def print_summary(stats: Stats, console: Console, max_errors: int = 10) -> None:
    table = Table(title="cleancorpus summary", show_header=True, header_style="bold")
    table.add_column("documents", justify="left")
    table.add_column("count", justify="right")
    colours = {KEPT: "green", DUPLICATE: "yellow", EMPTY: "blue", ERROR: "red"}
    for status in STATUSES:
        table.add_row(f"[{colours[status]}]{status}[/]", str(stats.statuses[status]))
    table.add_row("[bold]read[/]", f"[bold]{stats.total}[/]")
    rate = stats.total / stats.seconds if stats.seconds else 0.0
    table.caption = (
        f"{stats.chars_in:,} chars in, {stats.chars_out:,} out; "
        f"{stats.seconds:.2f} s, {rate:,.0f} docs/s"
    )
    console.print(table)
    if stats.changes:
        changes = Table(title="changes", show_header=True, header_style="bold")
        changes.add_column("change")
        changes.add_column("count", justify="right")
        changes.add_column("documents", justify="right")
        for name, count in sorted(stats.changes.items(), key=lambda kv: (-kv[1], kv[0]))[:20]:
            changes.add_row(name, str(count), str(stats.docs_changed[name]))
        console.print(changes)
    print_errors(stats, console, max_errors)


def print_errors(stats: Stats, console: Console, limit: int | None = None) -> None:
    shown = stats.errors if limit is None else stats.errors[:limit]
    for doc_id, reason in shown:
        console.print(f"[red]error[/] {escape(doc_id)}: {escape(reason)}", highlight=False)
    if limit is not None and len(stats.errors) > limit:
        console.print(f"... and {len(stats.errors) - limit} more errors (see the manifest)")
