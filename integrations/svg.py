"""Stacked bar charts drawn on the server as inline SVG: no CDN, no JavaScript, readable in a screenshot.

A chart is a list of x labels and a few named series of equal length; each bar stacks the series' values
for one label. Each bar segment carries a <title>, so hovering shows the exact figure.
"""

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Drawn at about the size it shows in a third of a 1400 px screen, so 12 px text stays 12 px.
WIDTH, HEIGHT = 460, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 10, 50  # plot margins: y labels left, x labels and legend below
PALETTE = ["#2f6fb0", "#e08a1e", "#6a9f3a", "#8e5bb5", "#c2417a", "#3a9aa0", "#8c6d46", "#6b7280"]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]
    color: str


def nice_step(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1: counts are whole)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return int(next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value))


def y_scale(highest: int) -> tuple[int, int]:
    """(top of the axis, tick step): whole round ticks, two to four of them above zero."""
    step = nice_step(highest / 4)
    return max(step, math.ceil(highest / step) * step), step


def stacked_bars(labels: list[str], series: list[Series], *, label_every: int = 1, empty: str = "") -> SafeString:
    """The SVG markup of a stacked bar chart with a y axis, x labels (every `label_every`-th) and a legend."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top, tick = y_scale(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    parts = [_grid(top, tick, plot_w, plot_h)]
    for i, label in enumerate(labels):
        parts.append(_bar(i, label, series, step, top, plot_h))
        if i % label_every == 0:
            x = LEFT + step * (i + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">{escape(label)}</text>')
    if not any(totals) and empty:
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" class="empty">')
        parts.append(f"{escape(empty)}</text>")
    parts.append(_legend(series))
    body = "".join(parts)
    # Every text above went through escape().
    return mark_safe(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="sy-chart" font-size="12" '
        f'font-family="system-ui, sans-serif" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _grid(top: int, tick: int, plot_w: float, plot_h: float) -> str:
    lines = []
    for value in range(0, top + 1, tick):
        y = TOP + plot_h - plot_h * value / top
        text = f"{value}" if value < 10_000 else f"{value / 1000:g}k"
        lines.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e5e9"/>')
        lines.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{text}</text>')
    bottom = TOP + plot_h
    lines.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{bottom}" y2="{bottom}" stroke="#888"/>')
    return "".join(lines)


def _bar(i: int, label: str, series: list[Series], step: float, top: int, plot_h: float) -> str:
    x, width = LEFT + step * i + step * 0.15, step * 0.7
    y = TOP + plot_h
    parts = []
    for s in series:
        value = s.values[i]
        if not value:
            continue
        h = plot_h * value / top
        y -= h
        tip = escape(f"{label} · {s.name}: {value}")
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{s.color}">'
            f"<title>{tip}</title></rect>"
        )
    return "".join(parts)


def _legend(series: list[Series]) -> str:
    parts: list[str] = []
    x = float(LEFT)
    y = HEIGHT - 14
    for s in series:
        parts.append(f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{x + 14:.0f}" y="{y}">{escape(s.name)}</text>')
        x += 26 + 7.2 * len(s.name)
    return "".join(parts)
