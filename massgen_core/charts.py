"""Inline SVG charts for MassGen's self-contained HTML pages (the eval report, the dashboard).

Small functions that return one ``<svg>`` element as text: bars over
categories (``bars``), a box plot per group (``box_rows``) and a horizontal bar
per group (``share_rows``). Every label passes through ``e`` (HTML escaping),
so text from models, configs or the store is inert; no script is emitted, so
the pages work under ``default-src 'none'``. Nothing here reads data or files.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#4b5563;margin:0 0 16px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}
th,td{border:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#047857;font-weight:600}.bad{color:#b91c1c;font-weight:600}.none{color:#6b7280}
.chart{background:#fff;border:1px solid #e5e7eb;padding:8px;margin:8px 0;overflow-x:auto}
.answer{max-width:360px;white-space:pre-wrap;word-break:break-word;color:#374151}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px}
.card{background:#fff;border:1px solid #e5e7eb;padding:10px}.card b{display:block;font-size:20px}
@media (max-width:640px){main{padding:12px}th,td{padding:4px}.answer{max-width:200px}}
"""


def e(value: Any) -> str:
    """``value`` as HTML text (attributes too): every ``<``, ``&`` and quote escaped."""
    return html.escape(str(value), quote=True)


def money(x: float) -> str:
    return f"${x:.4f}" if x < 1 else f"${x:.2f}"


def seconds(x: float) -> str:
    return f"{x:.2f} s" if x < 10 else f"{x:.0f} s"


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_max(value: float) -> float:
    """The round number (1, 2, 2.5, 5 × 10^k) at or above ``value``: the top of an axis."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top: float = step * 10**exponent
        if top >= value:
            return top
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


def page(title: str, body: Sequence[str]) -> str:
    """A whole HTML page with the shared style and a strict Content-Security-Policy."""
    return "".join([
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body><main>",
        *body,
        "</main></body></html>",
    ])


def bars(categories: Sequence[str], series: Mapping[str, Sequence[float]], *, fmt: Callable[[float], str] = str,
         label: str = "") -> str:
    """Stacked bars, one per category (e.g. a day), one colour per series, with a legend."""
    width, height, left, bottom, top = 640, 240, 64, 52, 24
    n = max(1, len(categories))
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    top_value = nice_max(max(totals, default=0.0))
    plot_w, plot_h = width - left - 12, height - top - bottom
    step = plot_w / n
    bar_w = max(2.0, min(40.0, step * 0.7))

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{e(label)}">']
    for i in range(5):
        value = top_value * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">'
                     f'{e(fmt(value))}</text>')
    every = max(1, math.ceil(n / 12))  # at most a dozen category labels
    for i, category in enumerate(categories):
        x = left + i * step + (step - bar_w) / 2
        base = 0.0
        for j, (name, values) in enumerate(series.items()):
            v = values[i]
            if v > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y(base + v):.1f}" width="{bar_w:.1f}" '
                             f'height="{max(0.5, y(base) - y(base + v)):.1f}" fill="{color(j)}">'
                             f'<title>{e(category)} · {e(name)}: {e(fmt(v))}</title></rect>')
            base += v
        if i % every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'font-size="11">{e(category)}</text>')
    for j, name in enumerate(series):
        lx = left + j * 140
        parts.append(f'<rect x="{lx}" y="{height - 18}" width="10" height="10" fill="{color(j)}"/>'
                     f'<text x="{lx + 14}" y="{height - 9}" font-size="11">{e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def box_rows(groups: Mapping[str, Sequence[float]], *, fmt: Callable[[float], str], label: str = "") -> str:
    """Per group, a box plot (min, quartiles, median, max) with every value as a dot."""
    names = list(groups)
    top_value = nice_max(max((max(v) for v in groups.values() if v), default=0.0) * 1.05)
    width, left, right, row_h = 640, 170, 24, 34
    height = 30 + row_h * max(1, len(names))
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v / top_value)

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{e(label)}">']
    for i in range(5):
        value = top_value * i / 4
        parts.append(f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="4" y2="{height - 24}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{x(value):.1f}" y="{height - 8}" text-anchor="middle" font-size="11">'
                     f'{e(fmt(value))}</text>')
    for j, name in enumerate(names):
        values = sorted(groups[name])
        cy = 8 + j * row_h + row_h / 2
        c = color(j)
        parts.append(f'<text x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end" font-size="11">{e(name)}</text>')
        if not values:
            continue
        q1, q2, q3 = (values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] for q in (0.25, 0.5, 0.75))
        parts.append(f'<line x1="{x(values[0]):.1f}" x2="{x(values[-1]):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="{c}"/>')
        parts.append(f'<rect x="{x(q1):.1f}" y="{cy - 8:.1f}" width="{max(1.0, x(q3) - x(q1)):.1f}" height="16" '
                     f'fill="{c}" fill-opacity="0.25" stroke="{c}"><title>{e(name)}: median {e(fmt(q2))}, '
                     f'quartiles {e(fmt(q1))}–{e(fmt(q3))}, {len(values)} values</title></rect>')
        parts.append(f'<line x1="{x(q2):.1f}" x2="{x(q2):.1f}" y1="{cy - 8:.1f}" y2="{cy + 8:.1f}" stroke="{c}" '
                     'stroke-width="2"/>')
        for v in values[:: max(1, len(values) // 400)]:  # at most ~400 dots a row
            parts.append(f'<circle cx="{x(v):.1f}" cy="{cy:.1f}" r="2" fill="{c}"/>')
    parts.append("</svg>")
    return "".join(parts)


def share_rows(rows: Sequence[tuple[str, float, str]], *, label: str = "") -> str:
    """Per row, a horizontal bar of a share from 0 to 1 with its text (e.g. "12% of 80")."""
    width, left, right, row_h = 640, 170, 120, 26
    height = 12 + row_h * max(1, len(rows))
    plot_w = width - left - right
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{e(label)}">']
    for j, (name, share, text) in enumerate(rows):
        cy = 6 + j * row_h
        parts.append(f'<text x="{left - 8}" y="{cy + 15}" text-anchor="end" font-size="11">{e(name)}</text>')
        parts.append(f'<rect x="{left}" y="{cy + 4}" width="{plot_w}" height="14" fill="#f3f4f6"/>')
        parts.append(f'<rect x="{left}" y="{cy + 4}" width="{plot_w * max(0.0, min(1.0, share)):.1f}" height="14" '
                     f'fill="{color(j)}"><title>{e(name)}: {e(text)}</title></rect>')
        parts.append(f'<text x="{left + plot_w + 8}" y="{cy + 15}" font-size="11">{e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["CSP", "bars", "box_rows", "color", "e", "money", "nice_max", "page", "seconds", "share_rows"]
