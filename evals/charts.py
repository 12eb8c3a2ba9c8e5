"""Small inline SVG bar charts for the report: no script, no CDN, readable when printed."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

_COLORS = ("#2f7d5b", "#3b6fb6", "#c07a1c", "#8a4fb0")


def bar_chart(bars: Sequence[tuple[str, float | None]], title: str = "", width: int = 300) -> Markup:
    """Horizontal bars for values in [0, 1], labelled with percentages; a missing value shows as '-'."""
    label_w, row_h, top = 96, 22, 24 if title else 6
    bar_w = width - label_w - 48
    height = top + row_h * len(bars) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="15" class="chart-title">{escape(title)}</text>')
    for i, (label, value) in enumerate(bars):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="15" fill="#eee"/>')
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 15}">-</text>')
            continue
        filled = max(0.0, min(1.0, value)) * bar_w
        color = _COLORS[i % len(_COLORS)]
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{filled:.1f}" height="15" fill="{color}"/>')
        parts.append(f'<text x="{label_w + bar_w + 4}" y="{y + 15}">{value * 100:.0f}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
