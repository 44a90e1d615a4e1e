"""The data both tabs work on (spaces/anomaly/picker.py): which controls apply, and uploads read
once for Detect and Train: bad files get a named refusal, exports are read and what was read is
said, a pickle is never run.

The served app's client is this file's own visitor; the last test trains a model in its session.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import handle_file

from tests.spaces.anomaly.test_app import Payload, _app_with_model


def test_only_the_controls_that_apply_are_shown(quick, monkeypatch):
    _app_with_model(monkeypatch, quick)
    import picker
    import train_tab

    shown = lambda *args: [u["visible"] for u in picker.controls(*args)]  # noqa: E731
    # digit, CSV layout, label column, drop missing, window, stride
    assert shown("ecg", None, "table") == [False, False, False, False, True, True]
    assert shown("kdd135", None, "table") == [False, False, False, False, True, True]
    assert shown("digits", None, "table") == [True, False, False, False, False, False]
    assert shown("breast_cancer", None, "series") == [False] * 6
    assert shown("digits", "/tmp/x.csv", "table") == [False, True, True, True, False, False]
    assert shown("ecg", "/tmp/x.csv", "series") == [False, True, True, True, True, True]
    # the rule's parameter, named after the rule, with its default; hidden where there is none
    k = train_tab.rule_parameter("mean_std")
    assert k["visible"] and k["label"].endswith(": k") and k["value"] == 1.0
    rate = train_tab.rule_parameter("percentile")
    assert rate["label"].endswith("expected share of anomalies") and rate["value"] == 0.05
    for rule in ("max", "best_f1", train_tab.AUTO_RULE):
        assert train_tab.rule_parameter(rule) == {"__type__": "update", "visible": False}


ROWS = "".join(f"{i % 7},{i % 3}\n" for i in range(40))


# name -> (file bytes, label column, layout, window, the words the refusal must contain)
BAD_INPUTS = {
    "empty file": (b"", "", "table", 200, "The file is empty"),
    "binary junk": (bytes(range(256)) * 64, "", "table", 200, "not a text CSV"),
    "one column of text": (b"word\n" + b"hello\n" * 50, "", "table", 200, "no numeric columns"),
    "NaN and inf": (b"v\n" + b"1\n" * 30 + b"nan\ninf\n", "", "table", 200, "2 row(s) hold NaN"),
    "10 million rows": (b"v\n" + b"0\n" * 10_000_000, "", "table", 200, "more than 200,000 rows"),
    "label with five classes": (
        ("a,y\n" + "".join(f"{i},{i % 5}\n" for i in range(40))).encode(),
        "y", "table", 200, "must be binary (normal/anomaly); it has 5 classes",
    ),
    "window longer than the series": (
        b"v\n" + b"1\n2\n" * 50, "", "series", 5000,
        "window (5000 points) is longer than the series (100 points)",
    ),
    "label column missing": (f"a,b\n{ROWS}".encode(), "label", "table", 200, "columns are: a, b"),
    # real exports, misread by a plain pd.read_csv: each refusal names the line at fault
    "a row with a field missing": (
        ("a;b;c\n" + "1,5;2;3\n" * 10 + "1,5;2\n" + "1,5;2;3\n" * 10).encode(),
        "", "table", 200, "Line 12 has 2 fields where the header has 3 (separator ';')",
    ),
    "decimal commas in a comma file": (
        b"v\n" + b"1,5\n" * 40, "", "table", 200, "Line 2 has 2 fields where the header has 1",
    ),
    "a column that only partly parses": (
        ("\ufeffa;b\n" + "1,5;2\n" * 10 + "1,5;n/a?\n" + "1,5;2\n" * 20).encode(),
        "", "table", 200, "Column 'b' has cells that mix numbers and text: line 12 holds 'n/a?'",
    ),
    # files people export, read right where they can be (tests/anomaly/test_upload.py), refused
    # by name where reading them would guess
    "a named column empty in every row": (
        b"a;b;c\n" + b"1;2;\n" * 30, "", "table", 200,
        "Column 'c' is empty in every row, so dropping rows with missing values would drop all 30",
    ),
    "a decimal comma or thousands?": (
        b"a;b\n" + b"1,234;5\n" * 30, "", "table", 200,
        "Line 2 holds '1,234': is ',' its decimal mark (1.234) or a thousands separator (1234)?",
    ),
    "two decimal marks": (
        b"a;b\n" + b"1,5;2\n" * 20 + b"2.5;1\n", "", "table", 200,
        "Line 2 holds '1,5' (a decimal comma) and line 22 holds '2.5' (a decimal point)",
    ),
    "neither UTF-8 nor Windows-1252": (
        b"v\n" + b"1\x81\n" * 30, "", "table", 200,
        "not a text CSV (it is neither UTF-8 nor Windows-1252 text)",
    ),
    "UTF-16 without its BOM": (
        ("v\n" + "1\n" * 40).encode("utf-16-le"), "", "table", 200,
        "not a text CSV (it holds NUL bytes)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_named_refusal_and_the_app_goes_on(client, tmp_path, case):
    content, label_col, layout, window, message = BAD_INPUTS[case]
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    # series settings only matter when training: send those cases to the Train endpoint
    if layout == "series":
        call = dict(api_name="/train")
        args = ("ecg", 0, handle_file(path), layout, label_col, window, 1, False, "dense", 2, 0,
                "mean_std", 1.0)  # fmt: skip
    else:
        call = dict(api_name="/detect")
        args = ("ecg", 0, handle_file(path), label_col, False)
    with pytest.raises(Exception) as info:
        client.predict(*args, **call)
    text = str(info.value)
    assert message in text
    assert "Traceback" not in text and 'File "' not in text
    answer = client.predict("ecg", 0, None, "", False, api_name="/detect")
    assert "flagged" in answer[2]


def test_a_series_the_model_can_read_is_still_scored(client, tmp_path):
    path = tmp_path / "series.csv"
    path.write_text("v\n" + "\n".join(f"{np.sin(i / 3):.4f}" for i in range(400)))
    # the quick model reads 200-point windows 4 points apart: (400 - 200) / 4 + 1 = 51
    answer = client.predict("ecg", 0, handle_file(path), "", False, api_name="/detect")
    assert "Scored **series.csv**: 51 samples" in answer[0]


def test_a_series_exported_the_european_way_is_read_and_what_was_read_said(client, tmp_path):
    """Excel's sep= line, Windows-1252, decimal commas, thousands and a separator at line end."""
    path = tmp_path / "série.csv"
    values = [1000 + 500 * np.sin(i / 3) for i in range(400)]
    cells = [f"{v:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") for v in values]
    path.write_bytes(("sep=;\ntempérature;\n" + "".join(f"{c};\n" for c in cells)).encode("cp1252"))
    answer = client.predict("ecg", 0, handle_file(path), "", False, api_name="/detect")
    assert "Scored **série.csv**: 51 samples" in answer[0]
    said = " ".join(str(a) for a in answer)
    assert "Read 400 rows x 1 columns, separator ';', decimal ','" in said
    assert (
        "Decoded as Windows-1252 (it is not UTF-8); skipped Excel's 'sep=' line; dropped the "
        f"empty column 2 (a separator at each line's end); read {cells[0]!r} as "
    ) in said


def test_a_pickle_upload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    upload = tmp_path / "data.csv"
    upload.write_bytes(pickle.dumps(Payload(marker)))
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    try:
        app = load_app("anomaly", "anomaly_app_pickle_upload")
    finally:
        del os.environ["ANOMALY_MODEL"]
    with client_for(app.demo) as client, pytest.raises(Exception) as info:
        client.predict("ecg", 0, handle_file(upload), "", False, api_name="/detect")
    assert "not a text CSV" in str(info.value) or "not a readable CSV" in str(info.value)
    assert not marker.exists()


def test_an_european_export_is_read_and_said(client, tmp_path):
    rows = [f"{i / 10:.1f};{(i % 7) / 4:.2f}".replace(".", ",") for i in range(50)]
    path = tmp_path / "export.csv"
    path.write_bytes(("\ufeffa;b\n" + "\n".join(rows) + "\n").encode("utf-8"))
    out = client.predict(
        "ecg", 0, handle_file(path), "table", "", 200, 1, False, "dense", 2, 0, "auto", 1.0,
        api_name="/train",
    )  # fmt: skip
    assert (
        "Read 50 rows x 2 columns, separator ';', decimal ',', header row, "
        "UTF-8 with a byte-order mark." in out[0]
    )
    assert out[5]["threshold_rule"] == "mean_std"  # no labels: the tutorial's rule, stated
    scored = client.predict("ecg", 0, handle_file(path), "", False, api_name="/detect")
    assert scored[0].startswith("Read 50 rows x 2 columns") and "expect about" in scored[0]
