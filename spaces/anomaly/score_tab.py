"""The Detect tab: score the picked data, move the threshold, look at one sample.

Scoring and what it shows live in shared/anomaly/report.py (data); charts.py turns its plot
data into the figures the browser draws. The served model's answers on the built-in datasets
are the same for every visitor: made once each (`served_answers`), the ECG one at import as
the tab's first view.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import charts
import gradio as gr
import numpy as np
import pandas as pd
from gradio.components.plot import PlotData
from picker import Picker, Upload, read_upload

from shared.anomaly.builtin import BUILTINS
from shared.anomaly.plots import roc_pr
from shared.anomaly.report import (
    FLAGGED_SHOWN,
    SCORES_DIR,
    Scored,
    ThresholdView,
    compare_rules,
    expectation,
    sample,
    score,
    view,
)
from shared.app.memo import Memo
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.errors import UserInputError

HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not an MCP tool


class View(NamedTuple):
    """Everything one threshold decides, as the tab shows it."""

    count: str
    report: str
    confusion: pd.DataFrame | None
    flagged: pd.DataFrame | None
    histogram: PlotData | None
    series: dict  # the series plot, hidden for data that is not a series
    download: str | None  # every scored row as CSV


class Detected(NamedTuple):
    """What the Score button shows: the data scored at the model's own threshold."""

    uploaded: Upload | None  # the parsed upload, kept for Score and Train
    scored: Scored | None  # kept for the slider and the sample viewer
    summary: str
    threshold: dict  # the slider: the model's threshold, in a range that holds every error
    count: str
    report: str
    confusion: pd.DataFrame | None
    flagged: pd.DataFrame | None
    histogram: PlotData | None
    series: dict
    download: str | None
    curves: dict  # ROC and PR, hidden without two label classes
    row: dict  # the sample viewer's row: the worst one
    viewer: pd.DataFrame | None  # that row against its reconstruction
    rules: pd.DataFrame | None  # every rule's threshold on this data
    why: str


def shown(v: ThresholdView) -> View:
    """A threshold view as the tab's outputs; the browser draws the figures."""
    series = None if v.series is None else charts.page_data(charts.series(v.series))
    histogram = charts.page_data(charts.histogram(v.histogram, v.threshold))
    return View(
        v.count,
        v.report,
        v.confusion,
        v.flagged,
        histogram,
        gr.update(value=series, visible=series is not None),
        str(v.csv),
    )


def answer(scored: Scored, note: str = "", csv: Path | None = None, uploaded=None) -> Detected:
    """`scored` at its model's threshold; `note` (what was read of an upload) leads the summary."""
    model, errors, labels = scored.model, scored.errors, scored.labels
    top = float(max(errors.max(), model.config.threshold) * 1.05)
    both = labels is not None and len(np.unique(labels)) == 2
    worst = int(np.argmax(errors))
    rules, why = compare_rules(scored)
    curves = charts.page_data(charts.roc_pr(*roc_pr(errors, labels))) if both else None
    summary = (
        f"{note}\n\nScored **{scored.name}**: {len(errors):,} samples with the "
        f"{model.describe()}. {expectation(scored)}"
    )
    return Detected(
        uploaded,
        scored,
        summary.strip(),
        gr.update(minimum=0.0, maximum=top, value=model.config.threshold, step=top / 500),
        *shown(view(scored, model.config.threshold, csv)),
        gr.update(value=curves, visible=both),
        gr.update(value=worst, maximum=len(errors) - 1),
        sample(scored, worst),
        rules,
        why,
    )


def served_answers(sessions: Sessions) -> Memo[Detected]:
    """The served model on each built-in test split: the same for every visitor, so made once
    (shared/app/memo.py says what that saves), its CSV beside the other downloads."""

    def make(dataset: str, digit: int) -> Detected:
        if dataset not in BUILTINS:
            raise UserInputError(f"Unknown dataset {dataset!r}; pick one of {', '.join(BUILTINS)}.")
        csv = SCORES_DIR / f"served-{dataset}-{digit}.csv"  # scores_file() leaves these alone
        return answer(score(sessions.current(None), dataset, digit), csv=csv)

    # a temp cleaner may take a kept CSV: the answer is then made again
    return Memo(make, size=len(BUILTINS) + 9, fresh=lambda a: Path(a.download).is_file())


def first_view(sessions: Sessions, served: Memo[Detected]) -> Detected:
    """The tab as it opens: ECG scored by the served model, or the reason it can't be."""
    reason = sessions.served.status
    if sessions.served.model is not None:
        try:
            return served("ecg", 0)
        except UserInputError as err:  # a served model of another shape (a pushed one, say)
            reason = f"{reason} {err}"
    empty = dict.fromkeys(Detected._fields) | dict(
        summary=reason,
        threshold=gr.update(minimum=0, maximum=1, value=0.5),
        series=gr.update(visible=True),
        curves=gr.update(visible=True),
        row=gr.update(value=0),
    )
    return Detected(**empty)


def detect(
    sessions: Sessions,
    served: Memo[Detected],
    dataset: str,
    digit: int,
    uploaded: Upload | None,
    label_col: str,
    drop_missing: bool,
    ticket: Ticket | None,
) -> Detected:
    """A built-in test split or the upload, scored at the model's threshold."""
    own = sessions.own(ticket)
    if own is None and not uploaded:
        return served(dataset, int(digit) if dataset == "digits" else 0)
    model = own.model if own is not None else sessions.current(None)
    parts = None if uploaded is None else (uploaded.name, uploaded.frame)
    scored = score(model, dataset, digit, parts, label_col, drop_missing)
    return answer(scored, uploaded.description if uploaded else "", uploaded=uploaded)


def rethreshold(threshold: float, scored: Scored | None) -> View:
    """The slider moved: everything the threshold decides, at the new one."""
    if not scored:
        raise UserInputError("Score some data first (the Score button).")
    return shown(view(scored, float(threshold)))


def props(update: dict) -> dict:
    """A first view's update as the keyword arguments of the component it fills."""
    return {k: v for k, v in update.items() if k != "__type__"}


def build(
    sessions: Sessions, served: Memo[Detected], picker: Picker, session: gr.State, first: Detected
) -> Detected:
    """The tab's components, filled with `first`, and its events; returns the components."""
    go = gr.Button("Score", variant="primary", elem_id="score")
    summary = gr.Markdown(first.summary, elem_id="summary")
    threshold = gr.Slider(label="Threshold", elem_id="threshold", **props(first.threshold))
    count = gr.Markdown(first.count, elem_id="flagged-count")
    report = gr.Markdown(first.report, elem_id="report")
    series = gr.Plot(label="Series with flagged points", elem_id="series", **props(first.series))
    with gr.Row():
        hist = gr.Plot(first.histogram, label="Error histogram", elem_id="histogram")
        curves = gr.Plot(label="ROC and PR curves", elem_id="curves", **props(first.curves))
    confusion = gr.Dataframe(first.confusion, label="Confusion matrix", elem_id="confusion")
    with gr.Row():
        row = gr.Number(precision=0, label="Sample viewer: row", minimum=0, **props(first.row))
        axes = dict(x="step", y="value", color="line", x_title="feature / time step")
        viewer = gr.LinePlot(
            first.viewer, label="Input vs reconstruction", elem_id="viewer", **axes
        )
    flagged = gr.Dataframe(first.flagged, label=f"Flagged rows (top {FLAGGED_SHOWN} by error)")
    download = gr.DownloadButton("Download scored rows (CSV)", first.download)
    with gr.Accordion("Threshold rules compared", open=False):
        rules = gr.Dataframe(
            first.rules, label="Each rule's threshold on this data", elem_id="rules"
        )
        why = gr.Markdown(first.why)
    uploaded, scored = gr.State(first.uploaded), gr.State(first.scored)
    out = Detected(
        uploaded,
        scored,
        summary,
        threshold,
        count,
        report,
        confusion,
        flagged,
        hist,
        series,
        download,
        curves,
        row,
        viewer,
        rules,
        why,
    )

    def on_score(dataset, digit, upload, label_col, drop_missing, ticket=None, parsed=None):
        parsed = read_upload(upload, parsed)
        return detect(sessions, served, dataset, digit, parsed, label_col, drop_missing, ticket)

    inputs = [picker.dataset, picker.digit, picker.upload, picker.label_col, picker.drop_missing]
    go.click(
        handler(on_score),
        [*inputs, session, uploaded],
        list(out),
        api_name="detect",
        **HIDDEN,  # its State and plots make a poor tool: score_csv answers agents in JSON
    )
    view_outputs = [getattr(out, name) for name in View._fields]
    threshold.change(
        handler(rethreshold), [threshold, scored], view_outputs, api_name="threshold", **HIDDEN
    )
    row.change(handler(sample), [row, scored], viewer, api_name="sample", **HIDDEN)
    return out
