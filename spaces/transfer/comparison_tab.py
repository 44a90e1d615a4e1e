"""The Model tab: the course's figure (pretrained or from scratch as the labels shrink), its
size x similarity chart (quadrant_view.py), the staged fine-tuning and its curves, all from the
served model's metrics.json; and the session models' share of the memory budget."""

from __future__ import annotations

import gradio as gr
import quadrant_view

from shared.transfer import report


def build(metrics: dict) -> gr.Markdown:
    """The tab, drawn from `metrics`; returns the line on session models, filled on page load."""
    gr.Markdown(
        "**Pretrained or from scratch?** Test accuracy on held-out digits against the "
        "number of labelled training images per class (mean over seeds; the table gives "
        f"the spread). {report.lesson(metrics)}",
        elem_id="transfer-lesson",
    )
    line(
        report.label_curve(metrics),
        "labels_per_class",
        "accuracy",
        "method",
        "The course's figure: accuracy as the dataset shrinks",
        x_title="labelled images per class",
        y_title="test accuracy",
        elem_id="transfer-curve",
    )
    gr.Dataframe(report.comparison_table(metrics), elem_id="transfer-comparison")
    quadrant_view.build(metrics)
    gr.Markdown("Frozen and trained stages of staged fine-tuning (parameter counts):")
    gr.Dataframe(report.stage_frame(metrics), elem_id="transfer-stages")
    with gr.Row():
        for key, title in (("loss", "Loss per epoch"), ("acc", "Accuracy per epoch")):
            line(report.training_curves(metrics, key), "epoch", "value", "series", title)
    line(report.lr_trace(metrics), "step", "lr", "stage", "Learning rate of the head, as run")
    if metrics.get("tuning"):
        gr.Markdown(f"Tuning (best: `{metrics['tuning']['best']}`):")
        gr.Dataframe(report.tuning_frame(metrics))
    return gr.Markdown(elem_id="transfer-sessions")


def line(frame, x: str, y: str, color: str, title: str, **more) -> gr.LinePlot:
    """A line per `color`, drawn in the browser, which names a point under the mouse."""
    return gr.LinePlot(frame, x=x, y=y, color=color, title=title, tooltip="all", **more)
