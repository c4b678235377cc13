"""An evaluation report as one self-contained HTML page: tables and inline SVG charts.

``render_html(report)`` takes ``massgen_core.evaluation.build_report``'s dict
and returns the page: a summary table (accuracy with its 95% interval, cost,
tokens, latency), the comparison with the baseline, three charts (accuracy
against cost per item, per-item outcomes, the distribution of cost per item)
and the per-item table. No script, no network: a strict Content-Security-Policy
allows only inline styles, and every piece of model or dataset text is
escaped, so nothing an answer contains can run in the reader's browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from massgen_core.charts import box_rows, e, nice_max, page
from massgen_core.charts import color as _color
from massgen_core.charts import money as _money


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def accuracy_cost_chart(configs: Sequence[Mapping[str, Any]]) -> str:
    """Each config a point: cost per item (x) against accuracy (y), with its 95% interval."""
    width, height, left, bottom, top, right = 640, 320, 60, 40, 16, 24
    x_max = nice_max(max((c["cost_per_item_usd"] for c in configs), default=0.0) * 1.1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(v: float) -> float:
        return left + plot_w * (v / x_max)

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="accuracy against cost">']
    for tick in range(0, 101, 25):
        ty = y(tick / 100)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end" font-size="11">{tick}%</text>')
    for i in range(5):
        value = x_max * i / 4
        parts.append(f'<text x="{x(value):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11">'
                     f'{e(_money(value))}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" font-size="12">'
                 'cost per item (USD)</text>')
    parts.append(f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">accuracy</text>')
    placed: list[tuple[float, float]] = []
    for i, c in enumerate(configs):
        cx, cy = x(c["cost_per_item_usd"]), y(c["accuracy"])
        ly = cy - 8
        while any(abs(px - cx) < 80 and abs(py - ly) < 13 for px, py in placed):
            ly += 14  # points that coincide get their labels stacked, not overprinted
        placed.append((cx, ly))
        lo, hi = c["ci95"]
        color = _color(i)
        parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(lo):.1f}" y2="{y(hi):.1f}" stroke="{color}" '
                     'stroke-width="2"/>')
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{color}"><title>{e(c["label"])}: '
                     f'{_pct(c["accuracy"])} ({_pct(lo)}–{_pct(hi)}), {e(_money(c["cost_per_item_usd"]))} per item'
                     '</title></circle>')
        parts.append(f'<text x="{cx + 9:.1f}" y="{ly:.1f}" font-size="12" fill="{color}">{e(c["label"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def outcomes_chart(report: Mapping[str, Any]) -> str:
    """A cell per item and config: green right, red wrong, grey no answer."""
    labels = [c["label"] for c in report["configs"]]
    rows = report["per_item"]
    cell, gap, left, top = 14, 2, 140, 8
    width = left + len(rows) * (cell + gap) + 8
    height = top + len(labels) * (cell + gap) + 24
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{max(width, 320)}" role="img" aria-label="per-item outcomes">']
    for j, label in enumerate(labels):
        ty = top + j * (cell + gap)
        parts.append(f'<text x="{left - 8}" y="{ty + cell - 3}" text-anchor="end" font-size="11">{e(label)}</text>')
        for i, row in enumerate(rows):
            result = row["results"][label]
            fill = "#10b981" if result["correct"] else ("#ef4444" if result["answer"] is not None else "#9ca3af")
            verdict = "right" if result["correct"] else ("wrong" if result["answer"] is not None else "no answer")
            parts.append(f'<rect x="{left + i * (cell + gap)}" y="{ty}" width="{cell}" height="{cell}" rx="2" '
                         f'fill="{fill}"><title>{e(row["id"])} · {e(label)}: {verdict} — {e(result["detail"])}'
                         '</title></rect>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="11">items in dataset order ({len(rows)}); '
                 'green right, red wrong, grey no answer</text></svg>')
    return "".join(parts)


def cost_chart(report: Mapping[str, Any]) -> str:
    """Per config, a box plot of cost per item with every item as a dot."""
    groups = {c["label"]: [row["results"][c["label"]]["cost_usd"] for row in report["per_item"]]
              for c in report["configs"]}
    return box_rows(groups, fmt=_money, label="cost per item")


def _summary_table(report: Mapping[str, Any]) -> str:
    rows = ["<table><tr><th>config</th><th>role</th><th>accuracy</th><th>95% interval</th><th>right</th>"
            "<th>no answer</th><th>cost</th><th>per item</th><th>tokens in / out</th><th>latency median / p90</th></tr>"]
    for i, c in enumerate(report["configs"]):
        lo, hi = c["ci95"]
        rows.append(
            f'<tr><td><span class="swatch" style="background:{_color(i)}"></span>{e(c["label"])}'
            f'<div class="none">{e(c["source"])}</div></td><td>{e(c["role"])}</td>'
            f'<td class="num">{_pct(c["accuracy"])}</td><td class="num">{_pct(lo)}–{_pct(hi)}</td>'
            f'<td class="num">{c["correct"]}/{c["n"]}</td><td class="num">{c["failures"]}</td>'
            f'<td class="num">{e(_money(c["cost_usd"]))}</td><td class="num">{e(_money(c["cost_per_item_usd"]))}</td>'
            f'<td class="num">{c["input_tokens"]:,} / {c["output_tokens"]:,}</td>'
            f'<td class="num">{c["latency_median_s"]:.1f} s / {c["latency_p90_s"]:.1f} s</td></tr>'
        )
    rows.append("</table>")
    return "".join(rows)


def _comparison_table(report: Mapping[str, Any]) -> str:
    if not report["comparisons"]:
        return "<p class=\"meta\">No baseline was given (<code>--baseline CONFIG</code> adds win/loss/tie per item).</p>"
    rows = ["<table><tr><th>config</th><th>against</th><th>wins</th><th>losses</th><th>ties</th>"
            "<th>sign test p</th><th>items won</th><th>items lost</th></tr>"]
    for c in report["comparisons"]:
        rows.append(
            f'<tr><td>{e(c["config"])}</td><td>{e(c["baseline"])}</td><td class="num ok">{c["wins"]}</td>'
            f'<td class="num bad">{c["losses"]}</td><td class="num">{c["ties"]}</td>'
            f'<td class="num">{c["sign_test_p"]:.3f}</td><td>{e(", ".join(c["win_items"]))}</td>'
            f'<td>{e(", ".join(c["loss_items"]))}</td></tr>'
        )
    rows.append("</table>")
    return "".join(rows)


def _items_table(report: Mapping[str, Any]) -> str:
    labels = [c["label"] for c in report["configs"]]
    head = "".join(f"<th>{e(label)}</th>" for label in labels)
    rows = [f"<table><tr><th>item</th><th>question</th><th>expected</th>{head}</tr>"]
    for row in report["per_item"]:
        cells = []
        for label in labels:
            r = row["results"][label]
            mark = ('<span class="ok">right</span>' if r["correct"]
                    else '<span class="bad">wrong</span>' if r["answer"] is not None else '<span class="none">no answer</span>')
            text = r["answer"] if r["answer"] is not None else (r["error"] or "")
            shown = text if len(text) <= 400 else text[:399] + "…"
            cells.append(f'<td>{mark} <span class="none">{e(_money(r["cost_usd"]))}</span>'
                         f'<div class="answer">{e(shown)}</div></td>')
        rows.append(f'<tr><td>{e(row["id"])}</td><td class="answer">{e(row["question"])}</td>'
                    f'<td>{e(row["expected"])}</td>{"".join(cells)}</tr>')
    rows.append("</table>")
    return "".join(rows)


def render_html(report: Mapping[str, Any]) -> str:
    """The whole report page (see the module docstring)."""
    title = f"MassGen evaluation · {report['dataset']}"
    return page(title, [
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{report["items"]} items · results in {e(report["out"])}</p>',
        "<h2>Summary</h2>", _summary_table(report),
        "<h2>Against the baseline</h2>", _comparison_table(report),
        '<h2>Accuracy against cost</h2><div class="chart">', accuracy_cost_chart(report["configs"]), "</div>",
        '<h2>Per-item outcomes</h2><div class="chart">', outcomes_chart(report), "</div>",
        '<h2>Cost per item</h2><div class="chart">', cost_chart(report), "</div>",
        "<h2>Items</h2>", _items_table(report),
    ])


__all__ = ["render_html"]
