"""Charts drawn on the server as SVG: no script, nothing to load, readable by screen readers through their title."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#1f5fbf", "#2e9d5b", "#e0a100", "#c0392b", "#7d3c98", "#16a2b8", "#7f8c8d")
_ROW = 26
_LABEL = 150
_WIDTH = 640


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label and its values (one per series, stacked)."""

    label: str
    values: Sequence[float]


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def bar_chart(title: str, bars: Sequence[Bar], series: Sequence[str] = ("",), unit: str = "") -> Markup:
    """A horizontal (stacked) bar chart with a legend when there are several series."""
    total = max((sum(bar.values) for bar in bars), default=0.0) or 1.0
    span = _WIDTH - _LABEL - 60
    legend = len(series) > 1
    keys: list[str] = []
    key_x, key_y = _LABEL, 6
    for index, name in enumerate(series if legend else ()):
        key_width = 16 + 14 * len(name) + 16
        if key_x + key_width > _WIDTH:  # wrap the legend onto another line
            key_x, key_y = _LABEL, key_y + 20
        keys.append(f'<rect x="{key_x}" y="{key_y}" width="12" height="12" fill="{PALETTE[index % len(PALETTE)]}"/>')
        keys.append(f'<text x="{key_x + 16}" y="{key_y + 10}" font-size="12">{escape(name)}</text>')
        key_x += key_width
    top = key_y + 22 if legend else 6
    height = top + _ROW * max(len(bars), 1) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" class="chart"><title>{escape(title)}</title>',
        *keys,
    ]
    if not bars:
        parts.append(f'<text x="{_LABEL}" y="{top + 17}" font-size="13" fill="#666">暂无数据</text>')
    for row, bar in enumerate(bars):
        y = top + row * _ROW
        parts.append(f'<text x="{_LABEL - 8}" y="{y + 17}" font-size="13" text-anchor="end">{escape(bar.label)}</text>')
        x = float(_LABEL)
        for index, value in enumerate(bar.values):
            width = span * value / total
            if width > 0:
                color = PALETTE[index % len(PALETTE)]
                name = escape(series[index] if index < len(series) else "")
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{_ROW - 8}" fill="{color}">'
                    f"<title>{escape(bar.label)} {name} {_number(value)}{escape(unit)}</title></rect>"
                )
            x += width
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 17}" font-size="12" fill="#333">'
            f"{_number(sum(bar.values))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
