"""Server-rendered SVG charts: no JavaScript, no CDN, readable on a phone (they scale to the width).

Each chart is a small function from plain data to an SVG string with a ``<title>`` per mark (hover and
screen readers) and an accessible label; text is escaped here, so labels from listening queries or
channels cannot inject markup. Colours follow the desk's sentiment badges.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

COLORS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
BAR = "#2c6fbb"


def _fmt(n: float) -> str:
    return f"{n:,.0f}".replace(",", ".") if n >= 1000 else f"{n:g}"


_NARROW = frozenset("ijlIJ.,:;'!|")
_THIN = frozenset("frt()-/ ")
_WIDE = frozenset("mwMW@…&#")


def _text_width(text: str, size: int = 12) -> float:
    """A text's width, estimated on the side of caution (DejaVu Sans, the widest common sans-serif): the
    server cannot measure it, and a label that runs past the chart's left edge loses its first letters."""
    em = sum(0.3 if c in _NARROW else 0.4 if c in _THIN else 1.0 if c in _WIDE
             else 0.78 if c.isupper() or c.isdigit() else 0.64 for c in text)
    return em * size


def _fit(text: str, room: float, size: int = 12) -> str:
    """``text`` cut with "…" so that it fits in ``room`` pixels."""
    if _text_width(text, size) <= room:
        return text
    while text and _text_width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text in body went through escape()
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>")


def stacked_columns(label: str, buckets: list[str], series: dict[str, list[float]], names: dict[str, str],
                    *, width: int = 420, height: int = 200, links: list[str] | None = None,
                    colors: dict[str, str] | None = None) -> SafeString:
    """Columns per bucket (a day or hour), stacked by series (the sentiments, or ``colors`` for others such as
    channels), with a y axis and a legend; ``links`` make each column open the items behind it."""
    colors = {**COLORS, **(colors or {})}
    left, bottom, top = 36, 34, 22
    plot_h = height - bottom - top
    totals = [sum(series[k][i] for k in series) for i in range(len(buckets))]
    peak = max(totals, default=0) or 1
    n = max(len(buckets), 1)
    step = (width - left - 8) / n
    bar_w = max(step * 0.78, 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#bbb"/>']
    for frac in (0.5, 1.0):
        y = top + plot_h * (1 - frac)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="#eee"/>'
                    f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#666">'
                    f"{_fmt(round(peak * frac))}</text>")
    for i, bucket in enumerate(buckets):
        x, y = left + i * step + (step - bar_w) / 2, top + plot_h
        marks = []
        for key in series:
            v = series[key][i]
            if not v:
                continue
            h = plot_h * v / peak
            y -= h
            marks.append(f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{colors.get(key, BAR)}"><title>{escape(bucket)}: {escape(names.get(key, key))} '
                         f"{_fmt(v)}</title></rect>")
        if marks and links:
            body.append(f'<a href="{escape(links[i])}">{"".join(marks)}</a>')
        else:
            body.extend(marks)
    every = max(1, round(n / 4))
    for i in range(0, n, every):
        x = left + i * step + step / 2
        body.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle" '
                    f'fill="#666">{escape(buckets[i][5:] if len(buckets[i]) >= 10 else buckets[i])}</text>')
    lx = left
    for key in series:
        body.append(f'<rect x="{lx}" y="4" width="10" height="10" fill="{colors.get(key, BAR)}"/>'
                    f'<text x="{lx + 14}" y="13" font-size="11" fill="#333">{escape(names.get(key, key))}</text>')
        lx += 24 + 7 * len(names.get(key, key))
    return _svg(width, height, label, body)


#: colours for series that are not sentiments (channels, languages), distinct for the colour-blind too
PALETTE = ("#2c6fbb", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#999999")


def bars(label: str, rows: list[tuple[str, dict[str, float]]], names: dict[str, str], *, width: int = 420,
         links: list[str] | None = None, suffix: list[str] | None = None) -> SafeString:
    """Horizontal bars, one per row, stacked by the keys of each row's dict (one key: a plain bar)."""
    label_w, row_h, pad = 110, 26, 4
    height = max(len(rows), 1) * row_h + 22
    peak = max((sum(v.values()) for _, v in rows), default=0) or 1
    # room for the longest number or note after a bar ("22 (vorher: 13)"), so it is never cut off
    plot_w = width - label_w - max(80, 8 + 7 * max((len(t) for t in suffix or []), default=0))
    body = []
    keys = list(dict.fromkeys(k for _, v in rows for k in v))
    if len(keys) > 1:
        lx = label_w
        for key in keys:
            body.append(f'<rect x="{lx}" y="2" width="10" height="10" fill="{COLORS.get(key, BAR)}"/>'
                        f'<text x="{lx + 14}" y="11" font-size="11" fill="#333">{escape(names.get(key, key))}</text>')
            lx += 24 + 7 * len(names.get(key, key))
    for i, (name, values) in enumerate(rows):
        y = 20 + i * row_h
        short = _fit(name, label_w - 10)
        body.append(f'<text x="{label_w - 6}" y="{y + row_h / 2 + 4:.1f}" font-size="12" text-anchor="end" '
                    f'fill="#222">{escape(short)}<title>{escape(name)}</title></text>')
        x = float(label_w)
        marks = []
        for key, v in values.items():
            if not v:
                continue
            w = plot_w * v / peak
            marks.append(f'<rect class="mark" x="{x:.1f}" y="{y + pad}" width="{max(w, 1):.1f}" '
                         f'height="{row_h - 2 * pad}" fill="{COLORS.get(key, BAR)}"><title>{escape(name)}: '
                         f"{escape(names.get(key, key))} {_fmt(v)}</title></rect>")
            x += w
        if marks and links:
            body.append(f'<a href="{escape(links[i])}">{"".join(marks)}</a>')
        else:
            body.extend(marks)
        text = suffix[i] if suffix else _fmt(sum(values.values()))
        body.append(f'<text x="{x + 6:.1f}" y="{y + row_h / 2 + 4:.1f}" font-size="12" fill="#333">'
                    f"{escape(text)}</text>")
    return _svg(width, height, label, body)


def sparkline(label: str, values: list[float], names: list[str] | None = None, *, width: int = 120,
              height: int = 28) -> SafeString:
    """A tiny column chart for a trend next to a number (counts per week); each column says what it counts."""
    n = max(len(values), 1)
    peak = max(values, default=0) or 1
    step = width / n
    body = [f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#ccc"/>']
    for i, v in enumerate(values):
        h = max((height - 2) * v / peak, 1 if v else 0)
        title = f"{names[i]}: {_fmt(v)}" if names else _fmt(v)
        body.append(f'<rect x="{i * step + step * 0.12:.1f}" y="{height - 0.5 - h:.1f}" width="{step * 0.76:.1f}" '
                    f'height="{h:.1f}" fill="{BAR}"><title>{escape(title)}</title></rect>')
    return mark_safe(  # noqa: S308 - every text in body went through escape()
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        f"{''.join(body)}</svg>")
