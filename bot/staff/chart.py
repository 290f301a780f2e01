"""The activation funnel as a bar chart (PNG), drawn with matplotlib's Agg renderer without
pyplot (no global state: safe in a worker thread)."""

from __future__ import annotations

import io

from bot.staff.service import FUNNEL_STAGES, Funnel
from bot.texts import staff as staff_texts


def funnel_chart_png(funnel: Funnel) -> bytes:
    """Horizontal bars, one per stage of the funnel (all accounts), with counts and shares."""
    from matplotlib.figure import Figure

    total = funnel.total
    labels = [staff_texts.STAFF_FUNNEL_STAGES[stage] for stage in FUNNEL_STAGES][::-1]
    values = [getattr(total, stage) for stage in FUNNEL_STAGES][::-1]
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot()
    bars = axes.barh(labels, values, color="#0b5cad")
    shares = [
        f"{value} ({100 * value / total.imported:.0f} %)" if total.imported else str(value)
        for value in values
    ]
    axes.bar_label(bars, labels=shares, padding=4)
    axes.set_xlim(0, max([*values, 1]) * 1.25)
    axes.set_title(staff_texts.STAFF_CHART_TITLE)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
