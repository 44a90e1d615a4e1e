"""The Model tab's size x similarity chart (spaces/transfer/quadrant_view.py), drawn from a
metrics dict with the chart and from one without it (an older model)."""

from __future__ import annotations

import copy
import importlib.util
import re
import sys

import gradio as gr
import pytest
from conftest import REPO

from shared.transfer import quadrant
from tests.transfer.test_quadrant import TABLE

APP_DIR = REPO / "spaces" / "transfer"
METRICS = {
    "quadrant": quadrant.means(TABLE),
    "quadrant_runs": {
        "seeds": [0, 1],
        "accuracy": TABLE,
        "settings": {
            "epochs": {"5": 60, "10": 60, "full": 6},
            "augment": True,
            "train_per_class": 108,
            "reused": 18,
            "total": 48,
            "command": "python -m training.transfer",
        },
    },
}


def load(name: str):
    """A module of spaces/transfer imported afresh, as app.py imports it."""
    sys.path.insert(0, str(APP_DIR))  # where comparison_tab finds quadrant_view
    try:
        for own in ("comparison_tab", "quadrant_view"):
            sys.modules.pop(own, None)
        spec = importlib.util.spec_from_file_location(name, APP_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(APP_DIR))


@pytest.fixture(scope="module")
def view():
    return load("quadrant_view")


def test_the_grid_shows_each_cell_winner_and_its_verdict_beside_the_course(view):
    html = view.chart_html(METRICS)
    winners = dict(re.findall(r'data-cell="(\w+)" data-winner="(\w+)"', html))
    assert winners == {
        "small_similar": "head_only",
        "small_dissimilar": "head_only",
        "large_similar": "scratch",
        "large_dissimilar": "scratch",
    }
    assert "+5.0 points over every stage" in html and "ahead in 2 of 4 runs" in html
    assert html.count("as the course says") == 2 and html.count("not what the course") == 2
    for advice in quadrant.TEXTBOOK.values():  # the course's chart, beside it
        assert advice.says in html
    tied = copy.deepcopy(METRICS)
    tied["quadrant_runs"]["accuracy"]["dissimilar"]["full"]["all_stages"] = [0.99, 0.99]
    cell = re.search(r'data-cell="large_dissimilar" data-winner="scratch">(.*?)</td>',
                     view.chart_html(tied)).group(1)  # fmt: skip
    assert "ties with every stage" in cell and "points over" not in cell
    # rows are sizes, columns are similarity: small/similar comes before small/dissimilar
    order = re.findall(r'data-cell="(\w+)" data-winner', html)
    assert order == ["small_similar", "small_dissimilar", "large_similar", "large_dissimilar"]


def test_one_sentence_per_cell_and_the_small_cells_sizes_beside_their_mean(view):
    lines = view.sentences(METRICS).splitlines()
    assert len(lines) == 4 and all(line.startswith("- ") for line in lines)
    assert lines[0].startswith("- Small data, similar target") and lines[0].endswith("says.")
    table = view.accuracy_table(METRICS)
    small = table[table["cell"] == "small_similar"]
    assert small["labels per class"].tolist() == ["cell mean", "5", "10"]
    assert small["head only"].tolist() == ["85.0%", "85.0%", "85.0%"]
    assert small["from scratch"].tolist() == ["60.0%", "55.0%", "65.0%"]
    assert len(table) == 4 + 2 * 2  # a row per cell, and each small cell's two sizes


def blocks_of(tab, metrics: dict) -> gr.Blocks:
    with gr.Blocks() as demo:
        tab.build(metrics)
    return demo


def _values(demo: gr.Blocks) -> dict:
    return {c.elem_id: c.value for c in demo.blocks.values() if getattr(c, "elem_id", None)}


def test_the_model_tab_draws_the_chart_and_says_so_when_a_model_has_none():
    tab = load("comparison_tab")
    values = _values(blocks_of(tab, METRICS))
    assert 'data-winner="head_only"' in values["transfer-quadrant"]
    assert values["transfer-quadrant-sentences"].count("- ") == 4
    assert "transfer-quadrant-missing" not in values
    older = _values(blocks_of(tab, {}))  # metrics.json of a model from before the chart
    assert "no size x similarity chart" in older["transfer-quadrant-missing"]
    assert "transfer-quadrant" not in older
