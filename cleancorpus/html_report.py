"""The ``check --html`` report: one self-contained page (inline CSS and SVG, no scripts, no
network resources) with the gate, bar charts, and the largest clusters side by side."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:24px;color:#1f2328;background:#fff;max-width:1400px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600}
.pass{background:#1a7f37}.fail{background:#cf222e}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.bad td{background:#ffebe9}
.charts{display:flex;flex-wrap:wrap;gap:24px}.muted{color:#656d76}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.pair pre{font-family:inherit;white-space:pre-wrap;word-break:break-all;font-size:13px;line-height:1.5;margin:0;
border:1px solid #d0d7de;border-radius:6px;padding:8px;background:#f6f8fa;max-height:480px;overflow:auto}
del{background:#ffcecb;text-decoration:none}ins{background:#aceebb;text-decoration:none}
code{font-size:12px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
"""


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def svg_bars(
    title: str,
    items: Sequence[tuple[str, int]],
    colour: str = "#0969da",
    width: int = 520,
    limit: int = 15,
) -> str:
    """A horizontal bar chart as inline SVG (labels left, bars scaled to the largest count)."""
    items = list(items)[:limit]
    if not items:
        return f'<figure><figcaption>{escape(title)}</figcaption><p class="muted">none</p></figure>'
    bar_h, gap, label_w, top = 18, 6, 190, 8
    height = top + len(items) * (bar_h + gap)
    most = max(n for _, n in items) or 1
    room = width - label_w - 70
    rows = []
    for i, (label, n) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = max(1, round(room * n / most))
        short = label if len(label) <= 28 else label[:27] + "…"
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="12">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{colour}" rx="2">'
            f"<title>{escape(label)}: {n}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + 13}" font-size="12">{n:,}</text>'
        )
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        + "".join(rows)
        + "</svg></figure>"
    )


def _marked(a: str, b: str, char_limit: int = 2000) -> tuple[str, str]:
    """Both texts as HTML, with what only the left has in <del> and only the right in <ins>.

    Lines first, then characters inside changed line blocks (Chinese has no word boundaries);
    a character diff is quadratic at worst, so blocks above ``char_limit`` are marked whole.
    """
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        xa, xb = "".join(la[i1:i2]), "".join(lb[j1:j2])
        if op == "equal":
            left.append(escape(xa))
            right.append(escape(xb))
        elif op == "replace" and len(xa) <= char_limit and len(xb) <= char_limit:
            sm = difflib.SequenceMatcher(None, xa, xb, autojunk=False)
            for cop, a1, a2, b1, b2 in sm.get_opcodes():
                if cop == "equal":
                    left.append(escape(xa[a1:a2]))
                    right.append(escape(xb[b1:b2]))
                else:
                    if a2 > a1:
                        left.append(f"<del>{escape(xa[a1:a2])}</del>")
                    if b2 > b1:
                        right.append(f"<ins>{escape(xb[b1:b2])}</ins>")
        else:
            if xa:
                left.append(f"<del>{escape(xa)}</del>")
            if xb:
                right.append(f"<ins>{escape(xb)}</ins>")
    return "".join(left), "".join(right)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], bad: Sequence[bool] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="bad"' if i < len(bad) and bad[i] else ""
        cells = "".join(
            f'<td class="n">{x:,}</td>' if isinstance(x, int) else f"<td>{escape(str(x))}</td>"
            for x in row
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(report: Mapping[str, Any], clusters: Sequence[Mapping[str, Any]]) -> str:
    """The whole page. ``clusters``: the largest clusters, each with ``texts`` = two (id, text)."""
    from cleancorpus.check import METRICS

    passed = report["passed"]
    failed = {v["metric"] for v in report["violations"]}
    th, rates = report["thresholds"], report["rates"]
    gate_rows, bad = [], []
    for m in METRICS:
        metric = m.name if m.minimum else f"{m.name}_rate"
        if m.minimum:
            gate_rows.append([m.label, report["documents"], f">= {th[m.key]:,}"])
        else:
            gate_rows.append([m.label, _pct(rates[m.name]), f"<= {_pct(th[m.key])}"])
        gate_rows[-1].append("FAILED" if metric in failed else "ok")
        bad.append(metric in failed)
    dup = report["duplicates"]
    t = report["throughput"]
    parts = [
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>cleancorpus check report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>cleancorpus check "
        + (
            '<span class="verdict pass">passed</span>'
            if passed
            else '<span class="verdict fail">failed</span>'
        )
        + "</h1>",
        f'<p class="muted">{escape(report["schema"])} · inputs: {escape(", ".join(report["inputs"]))} · '
        f"stages: {escape(' '.join(report['stages']))}</p>",
    ]
    if report["violations"]:
        parts.append(
            "<ul>"
            + "".join(
                f"<li><strong>{escape(v['message'])}</strong></li>" for v in report["violations"]
            )
            + "</ul>"
        )
    parts += [
        "<h2>Summary</h2>",
        _table(["metric", "value", "limit", ""], gate_rows, bad),
        _table(["status", "documents"], [[s, n] for s, n in report["status"].items()]),
        f"<p>Duplicates: {dup['within_dump']:,} within the dump, {dup['history']:,} of history"
        + (f" (index <code>{escape(dup['index'])}</code>)" if dup["index"] else "")
        + f"; {dup['clusters']:,} clusters. Boilerplate: {report['boilerplate']['removed_lines']:,} lines "
        f"removed, {report['boilerplate']['kept_lines']:,} kept.</p>",
        f"<p>Throughput: {report['documents']:,} documents, {t['chars_in']:,} characters in "
        f"{t['seconds']:.2f} s ({t['documents_per_second']:,.0f} documents/s, "
        f"{t['chars_per_second']:,} characters/s).</p>",
        '<h2>Charts</h2><div class="charts">',
        svg_bars("encodings (documents)", list(report["encodings"].items()), "#0969da"),
        svg_bars("repairs (count)", _by_count(report["repairs"]), "#8250df"),
        svg_bars("boilerplate rules (count)", _by_count(report["rules"]), "#bf8700"),
        svg_bars("status (documents)", list(report["status"].items()), "#1a7f37"),
        "</div>",
        "<h2>Largest duplicate clusters</h2>",
    ]
    if dup["largest_clusters"]:
        parts.append(
            _table(
                ["kept document", "size", "members"],
                [
                    [
                        c["id"],
                        c["size"],
                        ", ".join(c["members"]) + (" …" if c["members_truncated"] else ""),
                    ]
                    for c in dup["largest_clusters"]
                ],
            )
        )
    else:
        parts.append('<p class="muted">No duplicate clusters.</p>')
    for c in clusters:
        (id_a, text_a), (id_b, text_b) = c["texts"]
        left, right = _marked(text_a, text_b)
        same = "" if text_a != text_b else ' <span class="muted">(identical texts)</span>'
        parts.append(
            f'<h3>{escape(c["id"])} <span class="muted">({c["size"]} documents)</span>{same}</h3>'
            f'<div class="pair"><div><code>{escape(id_a)}</code><pre>{left}</pre></div>'
            f"<div><code>{escape(id_b)}</code><pre>{right}</pre></div></div>"
        )
    if dup["history_matches"]:
        parts.append("<h2>Duplicates of earlier dumps</h2>")
        parts.append(
            _table(
                ["document", "duplicate of"],
                [[d["id"], d["duplicate_of"]] for d in dup["history_matches"]],
            )
        )
    if report["damage"]["most_damaged"]:
        parts.append("<h2>Most damaged documents</h2>")
        parts.append(
            _table(
                ["document", "unrepairable", "repaired", "changes"],
                [
                    [
                        d["id"],
                        d["damage"],
                        d["repaired"],
                        ", ".join(f"{k}×{v}" for k, v in d["changes"].items()),
                    ]
                    for d in report["damage"]["most_damaged"]
                ],
            )
        )
    if report["errors"]:
        parts.append("<h2>Errors</h2>")
        parts.append(
            _table(["document", "error"], [[d["id"], d["error"]] for d in report["errors"]])
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _by_count(changes: Mapping[str, Mapping[str, int]]) -> list[tuple[str, int]]:
    return sorted(((n, v["count"]) for n, v in changes.items()), key=lambda kv: (-kv[1], kv[0]))
