"""Charts as SVG markup rendered on the server: no JavaScript, no chart library, no CDN.

The web layer's: the domain (:mod:`kb.insights`) returns coverage tables and time buckets as
data, and the Insights page draws them here.

Every label comes from case files or seller searches, so every piece of text goes through
:func:`html.escape` before it is placed in the markup. Each chart is an ``<svg role="img">``
with an ``aria-label``, a ``<title>`` and a ``<desc>`` text alternative, and a ``<title>``
tooltip on each cell or bar.
"""

from __future__ import annotations

import hashlib
from html import escape

from kb.insights import CoverageTable, TimeBucket

#: Light to dark blue: the share of the largest cell.
_SCALE = ("#eaf2fb", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
_ZERO_FILL = "#fff4e6"
_ZERO_STROKE = "#d9480f"
_ZERO_INK = "#9c3408"  # 0 labels: 4.5:1 or more on the hatched fill
_STRONG = "#3182bd"
_WEAK = "#e8590c"
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_CHAR = 6.8  # average character width at 12px, for layout


def _e(value) -> str:
    return escape(str(value), quote=True)


def _id(kind: str, *parts) -> str:
    """A short id, stable for the same content, so two charts on a page don't share ids."""
    return f"kb-{kind}-" + hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:8]


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def heatmap_svg(table: CoverageTable, max_label: int = 28) -> str:
    """A heat map of a coverage table: darker cells have more stories; empty cells are hatched
    and say 0. Each cell's tooltip names the combination and its stories."""
    uid = _id("heat", table.title, table.rows, table.columns, table.counts)
    cell_w, cell_h = 64, 28
    row_labels = [_cut(r, max_label) for r in table.rows]
    col_labels = [_cut(c, max_label) for c in table.column_labels]
    left = int(max((len(r) for r in row_labels), default=4) * _CHAR) + 16
    top = int(max((len(c) for c in col_labels), default=4) * _CHAR * 0.7) + 24
    # Column labels slant up and to the right: leave room for the last one.
    overhang = int(len(col_labels[-1]) * _CHAR * 0.82 - cell_w / 2) if col_labels else 0
    width = left + cell_w * len(table.columns) + max(16, overhang + 8)
    height = top + cell_h * len(table.rows) + 44
    peak = table.max_count or 1
    empty = [f"{r} × {c}" for r, row in zip(table.rows, table.counts)
             for c, count in zip(table.column_labels, row) if count == 0]
    label = f"{table.title}: heat map of published stories, {table.empty} empty combinations"
    desc = (f"Rows: {', '.join(table.rows) or 'none'}. Columns: {', '.join(table.column_labels) or 'none'}. "
            f"Most stories in one cell: {table.max_count}. "
            + (f"No story yet for: {'; '.join(empty)}." if empty else "Every combination has a story."))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kb-chart kb-heatmap" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" aria-label="{_e(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {_FONT}>',
        f'<title id="{uid}-title">{_e(label)}</title>',
        f'<desc id="{uid}-desc">{_e(desc)}</desc>',
        f'<defs><pattern id="{uid}-zero" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{_ZERO_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{_ZERO_STROKE}" stroke-width="1.5" opacity="0.45"/>'
        f'</pattern></defs>',
    ]
    for c, text in enumerate(col_labels):
        x = left + c * cell_w + cell_w / 2
        out.append(f'<text x="{x:.0f}" y="{top - 8}" transform="rotate(-35 {x:.0f} {top - 8})">'
                   f'<title>{_e(table.column_labels[c])}</title>{_e(text)}</text>')
    for r, text in enumerate(row_labels):
        y = top + r * cell_h
        out.append(f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="end">'
                   f'<title>{_e(table.rows[r])}</title>{_e(text)}</text>')
        for c, count in enumerate(table.counts[r]):
            x = left + c * cell_w
            cases = table.cases[r][c]
            tip = f"{table.rows[r]} × {table.column_labels[c]}: " + (
                f"{count} stor{'y' if count == 1 else 'ies'} ({', '.join(cases)})" if count else "no story yet")
            if count:
                shade = _SCALE[min(len(_SCALE) - 1, 1 + int((len(_SCALE) - 2) * count / peak))]
                ink = "#ffffff" if _SCALE.index(shade) >= 4 else "#1b1b1b"
                cell = (f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                        f'fill="{shade}"/>')
            else:
                ink = _ZERO_INK
                cell = (f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                        f'fill="url(#{uid}-zero)" stroke="{_ZERO_STROKE}" stroke-dasharray="3 2"/>')
            out.append(f'<g class="{"kb-cell" if count else "kb-cell kb-empty"}"><title>{_e(tip)}</title>{cell}'
                       f'<text x="{x + cell_w / 2:.0f}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="middle" '
                       f'fill="{ink}" font-weight="{"normal" if count else "bold"}">{count}</text></g>')
    legend_y = top + cell_h * len(table.rows) + 22
    out.append(f'<g class="kb-legend"><rect x="{left}" y="{legend_y - 11}" width="14" height="14" '
               f'fill="url(#{uid}-zero)" stroke="{_ZERO_STROKE}"/>'
               f'<text x="{left + 20}" y="{legend_y}">0 = no story yet</text>'
               f'<rect x="{left + 140}" y="{legend_y - 11}" width="14" height="14" fill="{_SCALE[1]}"/>'
               f'<rect x="{left + 154}" y="{legend_y - 11}" width="14" height="14" fill="{_SCALE[3]}"/>'
               f'<rect x="{left + 168}" y="{legend_y - 11}" width="14" height="14" fill="{_SCALE[5]}"/>'
               f'<text x="{left + 188}" y="{legend_y}">more stories (up to {table.max_count})</text></g>')
    out.append("</svg>")
    return "".join(out)


def timeline_svg(buckets: list[TimeBucket], bucket: str = "day", width: int = 720, height: int = 240) -> str:
    """Stacked bars of searches per day or week: strong matches below, weak ones (no strong
    match) on top. Each bar's tooltip gives the counts."""
    uid = _id("time", bucket, [(b.start, b.searches, b.weak) for b in buckets])
    left, right, top, bottom = 44, 12, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    total = sum(b.searches for b in buckets)
    weak = sum(b.weak for b in buckets)
    period = f"{buckets[0].start} to {buckets[-1].start}" if buckets else "no period"
    label = f"Searches per {bucket}, weak and strong: {total} searches, {weak} with no strong match ({period})"
    busiest = max(buckets, key=lambda b: (b.searches, b.start), default=None)
    desc = (f"{len(buckets)} {bucket}s from {period}. {total} searches, {weak} weak. "
            + (f"Busiest {bucket}: {busiest.start} with {busiest.searches} searches." if busiest and total else
               "No searches in this period."))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kb-chart kb-timeline" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" aria-label="{_e(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {_FONT}>',
        f'<title id="{uid}-title">{_e(label)}</title>',
        f'<desc id="{uid}-desc">{_e(desc)}</desc>',
    ]
    peak = max((b.searches for b in buckets), default=0)
    scale_top = max(1, _nice_ceiling(peak))
    for tick in sorted({0, scale_top // 2, scale_top}):
        y = top + plot_h - plot_h * tick / scale_top
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#dddddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555555">{tick}</text>')
    if buckets:
        slot = plot_w / len(buckets)
        bar = max(1.0, slot * 0.8)
        every = max(1, round(len(buckets) / 8))
        for i, b in enumerate(buckets):
            x = left + i * slot + (slot - bar) / 2
            strong_h = plot_h * b.strong / scale_top
            weak_h = plot_h * b.weak / scale_top
            base = top + plot_h
            tip = f"{bucket} of {b.start}: {b.searches} searches, {b.weak} weak, {b.strong} strong"
            out.append(f'<g class="kb-bar"><title>{_e(tip)}</title>'
                       f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{plot_h:.1f}" fill="transparent"/>'
                       f'<rect x="{x:.1f}" y="{base - strong_h:.1f}" width="{bar:.1f}" height="{strong_h:.1f}" '
                       f'fill="{_STRONG}"/>'
                       f'<rect x="{x:.1f}" y="{base - strong_h - weak_h:.1f}" width="{bar:.1f}" '
                       f'height="{weak_h:.1f}" fill="{_WEAK}"/></g>')
            if i % every == 0:
                out.append(f'<text x="{x + bar / 2:.1f}" y="{base + 16}" text-anchor="middle" fill="#555555">'
                           f'{_e(b.start[5:])}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888888"/>')
    out.append(f'<g class="kb-legend"><rect x="{left}" y="8" width="12" height="12" fill="{_STRONG}"/>'
               f'<text x="{left + 18}" y="18">strong match</text>'
               f'<rect x="{left + 120}" y="8" width="12" height="12" fill="{_WEAK}"/>'
               f'<text x="{left + 138}" y="18">no strong match</text></g>')
    out.append("</svg>")
    return "".join(out)


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least value, made even for a middle tick."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                ceiling = step * factor
                return ceiling if ceiling % 2 == 0 or ceiling == 1 else ceiling + 1
        step *= 10


__all__ = ["heatmap_svg", "timeline_svg"]
