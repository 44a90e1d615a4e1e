"""Real-world CSV exports are read as they were written, and a misread is refused by line.

Each file here is written the way a tool writes it: a European spreadsheet (';' and decimal
','), a header-less numeric dump, Excel's UTF-8 with a byte-order mark, UTF-16, tabs, quotes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.anomaly import upload
from shared.anomaly.data import split_labelled, windows
from shared.anomaly.upload import MIN_ROWS, read_csv, table_from_frame, task_from_frame
from shared.errors import UserInputError

VALUES = [(i / 10, (i % 7) * 1.25, i % 2) for i in range(30)]


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def rows(sep: str, decimal: str = ".") -> str:
    def cell(v) -> str:
        return str(v).replace(".", decimal)

    return "".join(sep.join(cell(v) for v in row) + "\n" for row in VALUES)


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("comma and dot", "a,b,label\n" + rows(","), "separator ',', decimal '.', header row."),
        ("European", "a;b;label\n" + rows(";", ","), "separator ';', decimal ','"),
        ("tab", "a\tb\tlabel\n" + rows("\t"), "separator tab, decimal '.'"),
        ("pipe, decimal comma", "a|b|label\n" + rows("|", ","), "separator '|', decimal ','"),
        (
            "Excel UTF-8 with BOM",
            ("\ufeffa;b;label\n" + rows(";", ",")).encode("utf-8"),
            "decimal ',', header row, UTF-8 with a byte-order mark.",
        ),
        ("UTF-16", ("a,b,label\n" + rows(",")).encode("utf-16"), "header row, UTF-16."),
        ("quoted", "a,b,label\n" + "".join(f'"{a}","{b}",{c}\n' for a, b, c in VALUES), "','"),
        ("blank lines", "a,b,label\n\n" + rows(",") + "\n\n", "separator ','"),
        ("old Mac line ends", ("a;b;label\n" + rows(";", ",")).replace("\n", "\r"), "decimal ','"),
        ("Windows line ends", ("a,b,label\n" + rows(",")).replace("\n", "\r\n"), "header row."),
    ],
)
def test_exports_read_to_the_same_numbers(tmp_path, name, content, said):
    csv = read_csv(write(tmp_path, content))
    assert csv.description.startswith("Read 30 rows x 3 columns, ") and said in csv.description
    assert list(csv.frame.columns) == ["a", "b", "label"]
    x, labels, columns = table_from_frame(csv.frame, "label")
    np.testing.assert_allclose(x, np.array(VALUES)[:, :2], rtol=1e-6)
    np.testing.assert_array_equal(labels, np.array(VALUES)[:, 2])


TEMPERATURES = [(20 + i / 4, 1000 + i * 12.5) for i in range(30)]


def european(sep: str = ";", end: str = "", decimal: str = ",", quote: str = "") -> str:
    """The TEMPERATURES table as a European spreadsheet writes it, with 'température' in it."""

    def cell(v: float) -> str:
        return quote + str(v).replace(".", decimal) + quote

    head = sep.join(["température", "pression"]) + end + "\n"
    return head + "".join(sep.join(map(cell, row)) + end + "\n" for row in TEMPERATURES)


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("Excel's sep= line", "sep=;\n" + european(), "Skipped Excel's 'sep=' line."),
        ("Excel's sep= line, tab", "sep=\t\n" + european("\t"), "separator tab, decimal ','"),
        ("Windows-1252", european().encode("cp1252"), "Decoded as Windows-1252 (it is not UTF-8)."),
        ("Latin-1", european().encode("latin-1"), "Decoded as Windows-1252"),
        ("quoted decimal commas", european(",", quote='"'), "separator ',', decimal ','"),
        ("a separator at each line's end", european(end=";"),
         "Dropped the empty column 3 (a separator at each line's end)."),
        ("... but not after the header", european(end=";").replace("pression;", "pression", 1),
         "Dropped the empty column 3 (a separator at each line's end)."),
        ("thousands separators", european().replace("1000,0", "1.000,0").replace("1012,5",
         "1.012,5"), "Read '1.000,0' as 1000."),
        ("all of them", ("sep=;\n" + european(end=";").replace("1012,5", "1.012,5")).encode(
         "cp1252"), "Decoded as Windows-1252 (it is not UTF-8); skipped Excel's 'sep=' line; "
         "dropped the empty column 3 (a separator at each line's end); read '1.012,5' as 1012.5."),
        ("US thousands, quoted", "température,pression\n" + "".join(
         f'{t},"{p:,}"\n' for t, p in TEMPERATURES), "decimal '.', header row. Read '1,000.0'"),
        ("UTF-32", european().encode("utf-32"), "header row, UTF-32."),
    ],
)  # fmt: skip
def test_the_files_people_export_are_read_and_what_was_read_is_said(tmp_path, name, content, said):
    csv = read_csv(write(tmp_path, content))
    assert said in csv.description
    assert csv.description.startswith("Read 30 rows x 2 columns, ")
    assert list(csv.frame.columns) == ["température", "pression"]
    np.testing.assert_array_equal(csv.frame.to_numpy(), np.array(TEMPERATURES))
    first_line = 3 if content[:3] in ("sep", b"sep") else 2  # Excel's line is line 1
    assert list(csv.frame.index[:2]) == [first_line, first_line + 1]
    assert all(note in csv.description.lower() for note in map(str.lower, csv.notes))


@pytest.mark.parametrize("drop_missing", [False, True])
def test_an_empty_column_is_named_whether_or_not_rows_may_be_dropped(tmp_path, drop_missing):
    frame = read_csv(
        write(tmp_path, european().replace("\n", ";\n").replace(";\n", ";x\n", 1))
    ).frame
    assert list(frame.columns) == ["température", "pression", "x"]
    with pytest.raises(UserInputError, match=r"^Column 'x' is empty in every row, so dropping"):
        table_from_frame(frame, drop_missing=drop_missing)


def test_a_header_less_numeric_file_keeps_its_first_row(tmp_path):
    csv = read_csv(write(tmp_path, rows(";", ",")))
    assert "no header row (columns named 0, 1, ...)" in csv.description
    assert list(csv.frame.columns) == ["0", "1", "2"] and len(csv.frame) == 30
    assert csv.frame["0"].iloc[0] == 0.0 and csv.frame["1"].iloc[1] == 1.25
    assert list(csv.frame.index[:2]) == [1, 2]  # rows are labelled by their line numbers


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b,c\n" + "1,2,3\n" * 10 + "1,2\n" + "1,2,3\n" * 10,
         "Line 12 has 2 fields where the header has 3 (separator ',')"),
        ("a;b\n" + "1;2\n" * 10 + "1;2;3\n" + "1;2\n" * 10,
         "Line 12 has 3 fields where the header has 2 (separator ';')"),
        # a decimal-comma column in a comma file would split every value in two
        ("v\n" + "1,5\n" * 30, "Line 2 has 2 fields where the header has 1"),
        ("a,b\n" + "1,2\n" * 10 + "\n" + "1,x\n" + "1,2\n" * 10,
         "Column 'b' has cells that mix numbers and text: line 13 holds 'x'"),
        ("a;b\n" + "1,5;2\n" * 10 + "1,5;2,x\n" + "1,5;2\n" * 10,
         "Column 'b' has cells that mix numbers and text: line 12 holds '2,x'"),
        ("a,b\n" + "1,2\n" * 25 + ",3\n", "1 row(s) hold NaN, empty or infinite values (the first: "
         "line 27)"),
        ("a,b\n1,2\n".encode("utf-16-le"), "not a text CSV (it holds NUL bytes)"),
        # 0x81 and 0x8d are neither UTF-8 nor Windows-1252 (whose letters hold Latin-1's)
        (b"a,b\n\x81\x8d1,2\n", "not a text CSV (it is neither UTF-8 nor Windows-1252 text)"),
        (b"a,b\n\xe9\x011,2\n", "not a text CSV (it holds control bytes)"),
        ("\n\n\n", "only blank lines"),
        # what the csv module or pandas cannot parse is refused with their first line of reason
        ('a,b\n1,"2\n' + "3,4\n" * 30,
         "The file is not a readable CSV: Error tokenizing data. C error: EOF inside string "
         "starting at row 1"),
        ("a,b\n1," + "9" * 200_000 + "\n",
         "The file is not a readable CSV: field larger than field limit (131072)."),
        # a number that is a decimal comma or thousands: nothing else in the file decides
        ("a;b\n" + "1,234;2\n" * 25,
         "Line 2 holds '1,234': is ',' its decimal mark (1.234) or a thousands separator (1234)? "
         "No other number in the file tells. Export it again without thousands separators."),
        ('a,b\n"12,500",3\n' + "3,4\n" * 25, "Line 2 holds '12,500': is ',' its decimal mark"),
        ("a;b\n" + "1.250;3\n" * 25, "Line 2 holds '1.250': is '.' its decimal mark (1.25) or "),
        # two decimal marks in one file: one of them is misread whichever is chosen
        ("a;b\n" + "1,5;2\n" * 10 + "2.5;3\n" + "1;2\n" * 10,
         "Line 2 holds '1,5' (a decimal comma) and line 12 holds '2.5' (a decimal point): the "
         "file writes numbers two ways. Export it again with one decimal mark."),
        ('a,b\n"0,15",2\n' + "3.5,4\n" * 25, "Line 2 holds '0,15' (a decimal comma) and line 3"),
        # gaps in every row: dropping rows would drop them all, so the cause is named instead
        ("a;b;c\n" + "1;2;\n" * 25, "Column 'c' is empty in every row, so dropping rows with "
         "missing values would drop all 25 rows. Remove that column from the file, or fill it in."),
        ("a;b\n" + "1;\n;2\n" * 15, "Every row has a missing, empty or infinite value, so "
         "dropping rows with missing values would drop all 30 rows. Gaps per column: 'a' (15), "
         "'b' (15)."),
    ],
)  # fmt: skip
def test_a_misread_is_refused_and_the_line_named(tmp_path, content, message):
    with pytest.raises(UserInputError) as info:
        table_from_frame(read_csv(write(tmp_path, content)).frame)
    assert message in str(info.value)


# --- the reader's edges: sizes, row limits, separators, line numbers ------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "^The file is empty.$"),
        (b"\n", "^The file holds only blank lines.$"),  # one byte, but not empty
        (b"a,b\n", "^The CSV has a header but no rows.$"),
        (
            "a,b\n1,2\n".encode("utf-16-le"),
            r"^The file is not a text CSV \(it holds NUL bytes\)\.$",
        ),
        (
            b"a,b\n\x811,2\n",
            r"^The file is not a text CSV \(it is neither UTF-8 nor Windows-1252 text\)\.$",
        ),
    ],
)
def test_files_without_readable_rows_say_exactly_why(tmp_path, content, message):
    with pytest.raises(UserInputError, match=message):
        read_csv(write(tmp_path, content))


def test_the_size_limit_is_inclusive_and_said_in_megabytes(tmp_path):
    path = write(tmp_path, "v\n" + "1234567890.1234\n" * (3 * 2**15))  # 1.5 MiB and two bytes
    size = path.stat().st_size
    assert len(read_csv(path, max_bytes=size).frame) == 3 * 2**15
    with pytest.raises(UserInputError, match=r"^The file is 1.5 MB; the limit is 1 MB.$"):
        read_csv(path, max_bytes=2**20)
    with pytest.raises(UserInputError, match="the limit is"):
        read_csv(path, max_bytes=size - 1)


@pytest.mark.parametrize("header", [True, False])
def test_the_row_limit_counts_data_rows_not_the_header(tmp_path, monkeypatch, header):
    monkeypatch.setattr(upload, "MAX_ROWS", 30)
    top = "v;w\n" if header else ""
    assert len(read_csv(write(tmp_path, top + "1;2\n" * 30)).frame) == 30
    with pytest.raises(
        UserInputError, match=r"^The file has more than 30 rows; the limit is 30\.$"
    ):
        read_csv(write(tmp_path, top + "1;2\n" * 31))


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends_count_one_line_each(tmp_path, end):
    frame = read_csv(write(tmp_path, ("a,b\n1,2\n\n3,4\n" + "5,6\n" * 20).replace("\n", end))).frame
    assert list(frame.index[:3]) == [2, 4, 5] and frame.loc[4, "a"] == 3


def test_rows_are_labelled_by_their_line_in_the_file_across_blank_lines(tmp_path):
    frame = read_csv(write(tmp_path, "a,b\n1,2\n\n3,4\n\n\n5,6\n" + "7,8\n" * 20)).frame
    assert frame.index.name == "line"
    assert list(frame.index[:4]) == [2, 4, 7, 8] and len(frame) == 23
    assert frame.loc[7, "a"] == 5


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("a;b\n" + "1;2\n" * 25, "separator ';'"),  # two columns are enough to tell
        ("v\n" + "1.5\n" * 25, "separator ','"),  # one column: no separator to find
        # ';' splits the first line but only half the lines: not the file's separator
        ("a;b,c\n1;2,3\n4,5\n6,7\n", "separator ','"),
        ("a;b,c\n1;2,3\n4,5\n6,7\n8,9\n", "separator ','"),  # two lines of five
    ],
)
def test_the_separator_is_the_one_most_lines_share(tmp_path, content, said):
    csv = read_csv(write(tmp_path, content))
    assert said in csv.description and csv.description.endswith("header row.")


def test_a_header_less_file_is_described_in_full(tmp_path):
    csv = read_csv(write(tmp_path, rows(";", ",")))
    assert csv.description == (
        "Read 30 rows x 3 columns, separator ';', decimal ',', "
        "no header row (columns named 0, 1, ...)."
    )


def test_a_header_less_file_names_line_1_when_a_row_differs(tmp_path):
    with pytest.raises(
        UserInputError, match=r"^Line 4 has 3 fields where line 1 has 2 \(separator ';'\)\."
    ):
        read_csv(write(tmp_path, "1;2\n3;4\n5;6\n7;8;9\n"))


# --- from a frame to numbers and labels ----------------------------------------------------------
def frame_of(n: int = 25, **columns) -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(n, dtype=float), "b": np.arange(n) * 2.0, **columns})


def test_a_table_of_text_names_its_columns():
    with pytest.raises(
        UserInputError, match=r"^The CSV has no numeric columns \(columns are: name, city\)\.$"
    ):
        table_from_frame(pd.DataFrame({"name": ["x"] * 25, "city": ["y"] * 25}))


def test_text_columns_are_left_out_and_the_label_name_is_trimmed():
    frame = frame_of(name=["x"] * 25, label=[0] * 20 + [1] * 5)
    x, labels, columns = table_from_frame(frame, "  label ")
    assert columns == ["a", "b"] and x.dtype == np.float32
    np.testing.assert_array_equal(x, frame[["a", "b"]].to_numpy(np.float32))
    assert labels.tolist() == [0] * 20 + [1] * 5 and labels.dtype == np.int64
    assert "label" in frame.columns  # the caller's frame keeps its label column
    x, labels, columns = table_from_frame(frame)
    assert labels is None and columns == ["a", "b", "label"]


@pytest.mark.parametrize("where", ["feature", "label"])
def test_missing_values_in_features_or_labels_are_refused_or_dropped(where):
    frame = frame_of(28, label=[0.0] * 20 + [1.0] * 8)
    frame.index = pd.Index(range(2, 30), name="line")  # as read_csv labels them
    frame.loc[[5, 9], "a" if where == "feature" else "label"] = np.nan
    with pytest.raises(
        UserInputError,
        match=r"^2 row\(s\) hold NaN, empty or infinite values \(the first: line 5\)\. Tick 'drop "
        r"rows with missing values' to drop them, or clean the file\.$",
    ):
        table_from_frame(frame, "label")
    x, labels, _ = table_from_frame(frame, "label", drop_missing=True)
    kept = [i for i in range(2, 30) if i not in (5, 9)]
    np.testing.assert_array_equal(x[:, 1], frame.loc[kept, "b"].to_numpy(np.float32))
    assert labels.tolist() == frame.loc[kept, "label"].astype(int).tolist()


def test_at_least_min_rows_usable_rows_are_needed():
    assert len(table_from_frame(frame_of(MIN_ROWS))[0]) == MIN_ROWS
    with pytest.raises(
        UserInputError,
        match=rf"^The data has {MIN_ROWS - 1} usable rows; at least {MIN_ROWS} needed",
    ):
        table_from_frame(frame_of(MIN_ROWS - 1))
    short = frame_of(MIN_ROWS)
    short.loc[3, "a"] = np.inf
    with pytest.raises(UserInputError, match=f"has {MIN_ROWS - 1} usable rows"):
        table_from_frame(short, drop_missing=True)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([0, 1] * 12 + [1], [0, 1] * 12 + [1]),
        ([0.0, 1.0] * 12 + [0.0], [0, 1] * 12 + [0]),
        ([False, True] * 12 + [True], [0, 1] * 12 + [1]),
        (["0", "1"] * 12 + ["1"], [0, 1] * 12 + [1]),  # numbers held as text
    ],
)
def test_binary_labels_of_any_type_become_0_and_1(labels, expected):
    assert table_from_frame(frame_of(label=labels), "label")[1].tolist() == expected


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([1, 2] * 12 + [1], r"^Labels must be 0 \(normal\) and 1 \(anomaly\); found: 1, 2\.$"),
        (["no", "yes"] * 12 + ["no"], r"^Labels must be 0 .*; found: no, yes\.$"),
        (
            [0, 1, 2] * 8 + [0],
            r"^The label column must be binary \(normal/anomaly\); it has 3 classes: 0, 1, 2\.$",
        ),
        # numbers and text mixed in one column are listed, not compared
        ([0, 1, "x"] * 8 + [0], r"it has 3 classes: 0, 1, x\.$"),
        (list(range(8)) * 3 + [0], r"it has 8 classes: 0, 1, 2, 3, 4, 5, 6, 7\.$"),
        (list(range(9)) * 3, r"it has 9 classes: 0, 1, 2, 3, 4, 5, 6, 7, \.\.\.\.$"),
    ],
)
def test_labels_that_are_not_0_and_1_are_named(labels, message):
    with pytest.raises(UserInputError, match=message):
        table_from_frame(frame_of(len(labels), label=labels), "label")


# --- from a frame to a task ----------------------------------------------------------------------
def test_an_unlabelled_table_trains_and_tests_on_every_row():
    frame = frame_of()
    task = task_from_frame(frame)
    assert (task.name, task.kind, task.columns) == ("uploaded CSV", "table", ["a", "b"])
    np.testing.assert_array_equal(task.train, frame.to_numpy(np.float32))
    np.testing.assert_array_equal(task.test, task.train)
    assert task.test_labels is None and task.val is None


def test_a_labelled_table_is_split_like_split_labelled_with_the_same_seed():
    frame = frame_of(40, label=[0] * 30 + [1] * 10)
    x = frame[["a", "b"]].to_numpy(np.float32)
    y = frame["label"].to_numpy()
    for kwargs, seed, semi in (({}, 0, True), ({"seed": 4, "semi_supervised": False}, 4, False)):
        task = task_from_frame(frame, "t.csv", label_col="label", **kwargs)
        expected = split_labelled(x, y, seed, semi)
        assert (task.name, task.kind, task.columns) == ("t.csv", "table", ["a", "b"])
        for key, value in expected.items():
            np.testing.assert_array_equal(getattr(task, key), value)
    gap = frame.astype({"a": float})
    gap.loc[3, "a"] = np.nan
    with pytest.raises(UserInputError, match="1 row"):
        task_from_frame(gap, label_col="label")
    dropped = task_from_frame(gap, label_col="label", drop_missing=True)
    # 29 normal rows left: 9 test, 6 validation, 14 train; 10 anomalies: 3 test, 2 validation
    assert (len(dropped.train), len(dropped.val), len(dropped.test)) == (14, 8, 12)
    assert all(3.0 not in part[:, 0] for part in (dropped.train, dropped.val, dropped.test))
    with pytest.raises(UserInputError, match="^The label column has one class only; both 0 and 1"):
        task_from_frame(frame_of(label=[0] * 25), label_col="label")
    with pytest.raises(
        UserInputError, match=r"^Unknown layout 'tabel'; choose 'table' or 'series'"
    ):
        task_from_frame(frame, layout="tabel")


@pytest.mark.parametrize("semi", [True, False])
def test_a_labelled_series_trains_on_its_clean_windows_when_semi_supervised(semi):
    values = np.sin(np.arange(30) / 4)
    points = (np.arange(30) == 10).astype(int)
    frame = pd.DataFrame({"v": values, "y": points})
    task = task_from_frame(frame, "s.csv", "series", "y", window=5, semi_supervised=semi)
    all_windows = windows(values, 5, 1)
    assert (task.name, task.kind, task.window, task.stride) == ("s.csv", "series", 5, 1)
    np.testing.assert_array_equal(task.test, all_windows)
    assert task.test_labels.tolist() == [int(6 <= i <= 10) for i in range(26)]
    clean = all_windows[task.test_labels == 0]
    np.testing.assert_array_equal(task.train, clean if semi else all_windows)
    unlabelled = task_from_frame(frame[["v"]], layout="series", window=5, stride=3)
    np.testing.assert_array_equal(unlabelled.train, windows(values, 5, 3))
    with pytest.raises(
        UserInputError, match=r"^A series needs exactly one numeric column .*has 2: v, w\.$"
    ):
        task_from_frame(frame.assign(w=1.0).drop(columns="y"), layout="series", window=5)


# --- validation: every bad input names its problem -------------------------------------------
def _csv(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


NUMBERS = "a,b,label\n" + "".join(f"{i},{i * 2},{int(i % 10 == 0)}\n" for i in range(40))


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        ("", {}, "empty"),
        ("name\n" + "x\n" * 30, {}, "no numeric columns"),
        ("a,b\n" + "1,2\n" * 20 + "x,3\n", {}, "mix numbers and text"),
        ("a,b\n" + "1,2\n" * 25 + "nan,3\ninf,4\n", {}, "2 row\\(s\\) hold NaN"),
        (NUMBERS, {"label_col": "target"}, "Label column 'target' not found; columns are: a, b"),
        ("a,y\n" + "".join(f"{i},{i % 5}\n" for i in range(30)), {"label_col": "y"}, "5 classes"),
        ("a,b\n" + "1,2\n" * 5, {}, f"at least {MIN_ROWS} needed"),
        (NUMBERS, {"layout": "series", "window": 10}, "exactly one numeric column"),
        ("v\n" + "1\n" * 30, {"layout": "series", "window": 100}, "longer than the series"),
    ],
)
def test_bad_csvs_get_named_errors(tmp_path, content, kwargs, message):
    with pytest.raises(UserInputError, match=message):
        task_from_frame(read_csv(_csv(tmp_path, content)).frame, **kwargs)


def test_missing_values_can_be_dropped_and_size_is_capped(tmp_path):
    frame = read_csv(_csv(tmp_path, "a,b\n" + "1,2\n" * 25 + "nan,3\n")).frame
    x, labels, columns = table_from_frame(frame, drop_missing=True)
    assert x.shape == (25, 2) and labels is None and columns == ["a", "b"]
    with pytest.raises(UserInputError, match="limit is"):
        read_csv(_csv(tmp_path, "a\n" + "1\n" * 100), max_bytes=50)
