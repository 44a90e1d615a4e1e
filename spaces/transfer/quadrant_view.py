"""The Model tab's size x similarity chart: the measured winner of each cell beside the course's
advice, one sentence per cell, and every strategy's accuracy, all from metrics.json's
`quadrant` and `quadrant_runs` (shared/transfer/quadrant.py does the arithmetic)."""

from __future__ import annotations

from html import escape

import gradio as gr
import pandas as pd

from shared.transfer import quadrant

ROWS = {"small": "small data", "large": "large data"}
COLUMNS = {"similar": "similar target", "dissimilar": "dissimilar target"}
# a tint that reads on light and dark themes alike, and a mark that needs no colour
AGREES = ("rgba(34, 197, 94, 0.18)", "&#10003; as the course says")
DIFFERS = ("rgba(245, 158, 11, 0.25)", "&#10007; not what the course says")
MISSING = (
    "This model's metrics.json has no size x similarity chart (a model trained before the chart "
    "existed, on your own data, or with `--quadrant-seeds 0`): `python -m training.transfer` "
    "measures it."
)


def has_chart(metrics: dict) -> bool:
    return bool(metrics.get("quadrant")) and bool(metrics.get("quadrant_runs"))


def chart_html(metrics: dict) -> str:
    """Two 2x2 grids side by side: the measured winner and its margin, and the course's chart."""
    cells = quadrant.cells(metrics["quadrant_runs"]["accuracy"])

    def measured(name: str) -> str:
        cell = cells[name]
        tint, mark = AGREES if cell.agrees else DIFFERS
        runner_up = escape(quadrant.STRATEGIES[cell.runner_up])
        if cell.margin:
            margin = f"+{100 * cell.margin:.1f} points over {runner_up}<br>"
            margin += f"ahead in {cell.wins} of {cell.runs} runs"
        else:  # equal means: the strategy listed first is named, and the tie said
            margin = f"ties with {runner_up}"
        return (
            f'<td style="background:{tint}" data-cell="{name}" data-winner="{cell.winner}">'
            f"<b>{escape(quadrant.STRATEGIES[cell.winner])}</b> "
            f"{cell.means[cell.winner]:.1%}<br>{margin}<br>{mark}</td>"
        )

    def textbook(name: str) -> str:
        return f'<td data-cell="{name}">{escape(quadrant.TEXTBOOK[name].says)}</td>'

    return (
        '<div style="display:flex;gap:2em;flex-wrap:wrap">'
        + _grid("Measured: winner and its margin", measured)
        + _grid("The course's chart", textbook)
        + "</div>"
    )


def _grid(title: str, cell) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS.values())
    rows = "".join(
        f"<tr><th>{escape(label)}</th>"
        + "".join(cell(quadrant.cell_name(size, target)) for target in COLUMNS)
        + "</tr>"
        for size, label in ROWS.items()
    )
    return (
        f'<table style="border-collapse:collapse;max-width:32em"><caption><b>{escape(title)}'
        f"</b></caption><tr><th></th>{head}</tr>{rows}</table>"
    )


def sentences(metrics: dict) -> str:
    """One sentence per cell, as a Markdown list, in the chart's order."""
    cells = quadrant.cells(metrics["quadrant_runs"]["accuracy"])
    return "\n".join(f"- {cells[name].sentence}" for name in quadrant.CELLS)


def accuracy_table(metrics: dict) -> pd.DataFrame:
    """Each cell's mean per strategy (the `quadrant` numbers), and each of its sizes alone."""
    table = metrics["quadrant_runs"]["accuracy"]
    rows = []
    for name in quadrant.CELLS:
        size, target = name.split("_")
        rows.append({"cell": name, "labels per class": "cell mean", **metrics["quadrant"][name]})
        if len(quadrant.SIZES[size]) > 1:  # the small cell: its sizes beside their mean
            for n in quadrant.SIZES[size]:
                runs = table[target][n]
                rows.append(
                    {"cell": name, "labels per class": n}
                    | {s: sum(v) / len(v) for s, v in runs.items()}
                )
    frame = pd.DataFrame(rows, columns=["cell", "labels per class", *quadrant.STRATEGIES])
    for s in quadrant.STRATEGIES:
        frame[s] = frame[s].map("{:.1%}".format)
    return frame.rename(columns=quadrant.STRATEGIES)


def build(metrics: dict) -> None:
    """The chart's part of the Model tab, or one line saying why it is not there."""
    gr.Markdown(
        "**Size x similarity: the course's chart, measured.** The same four strategies on a "
        "target similar to the printed-letters source (printed digits, same faces) and a "
        "dissimilar one (handwritten digits), with few labels and with the full set."
    )
    if not has_chart(metrics):
        gr.Markdown(MISSING, elem_id="transfer-quadrant-missing")
        return
    gr.HTML(chart_html(metrics), elem_id="transfer-quadrant")
    gr.Markdown(sentences(metrics), elem_id="transfer-quadrant-sentences")
    gr.Dataframe(accuracy_table(metrics), elem_id="transfer-quadrant-table")
    gr.Markdown(quadrant.settings_text(metrics["quadrant_runs"]))
