"""Files people upload: CSVs read the way they were written, or refused with the line at fault.

Exports are not all comma-and-dot with a header: European spreadsheets write `;` separators and
`,` decimals, some tools write no header row, Excel writes a byte-order mark. pandas' default
read splits such a file on its decimal commas and returns wrong numbers without an error, so
`read_csv` sniffs the separator, the decimal mark, the header and the encoding, says what it
read, and refuses a misread: a row with a different number of fields, a column that only partly
parses as numbers. Row labels of the frame it returns are the rows' line numbers in the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shared.anomaly.data import ECG_WINDOW, AnomalyData, series_task, split_labelled
from shared.errors import UserInputError

MIN_ROWS = 20  # fewer samples than this cannot both train an autoencoder and check it
MAX_ROWS = 200_000  # rows read from one CSV; the cap that keeps a 10-million-row file cheap
MAX_CSV_BYTES = 20 * 1024 * 1024  # the CLI's size limit; the app's upload limit is the same 20 MB
SEPARATORS = (";", "\t", "|", ",")  # tried in this order: a comma may be a decimal mark
SNIFF_LINES = 50  # lines the separator and decimal mark are guessed from
SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+\s*$")


@dataclass(frozen=True)
class CsvFile:
    """A CSV as read: the frame (indexed by line number) and what was read, in words."""

    frame: pd.DataFrame
    description: str


def read_csv(path: str | os.PathLike, max_bytes: int = MAX_CSV_BYTES) -> CsvFile:
    """Read a CSV a person gave us, refusing what cannot be a table of numbers."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise UserInputError(
            f"The file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB."
        )
    if size == 0:
        raise UserInputError("The file is empty.")
    text, encoding = _decode(path.read_bytes())
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac exports end lines in \r
    sample = [row for row in text.splitlines()[: SNIFF_LINES * 2] if row.strip()][:SNIFF_LINES]
    if not sample:
        raise UserInputError("The file holds only blank lines.")
    try:
        sep = _separator(sample)
        fields = [f for row in csv.reader(sample, delimiter=sep) for f in row]
        decimal = "," if sep != "," and any(DECIMAL_COMMA.match(f) for f in fields) else "."
        first = next(csv.reader(sample[:1], delimiter=sep))
        header = not all(_is_number(f, decimal) for f in first)
        lines = _check_fields(text, sep, len(first), header)
    except csv.Error as err:  # e.g. a field over the csv module's 131,072-character limit
        raise UserInputError(f"The file is not a readable CSV: {err}.") from None
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, decimal=decimal, header=0 if header else None
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserInputError(f"The file is not a readable CSV: {first_line}") from None
    if frame.empty:
        raise UserInputError("The CSV has a header but no rows.")
    if not header:
        frame.columns = [str(i) for i in range(frame.shape[1])]
    if len(lines) == len(frame):
        frame.index = pd.Index(lines, name="line")
    what = [
        f"{len(frame):,} rows x {frame.shape[1]} columns",
        f"separator {SEPARATOR_NAMES[sep]}",
        f"decimal '{decimal}'",
        "header row" if header else "no header row (columns named 0, 1, ...)",
    ]
    if encoding != "utf-8":
        what.append(encoding)
    return CsvFile(frame, "Read " + ", ".join(what) + ".")


def _decode(raw: bytes) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (a BOM is dropped) or UTF-16 with its BOM."""
    try:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return raw.decode("utf-16"), "UTF-16"
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserInputError("The file is not a text CSV (it is not UTF-8 text).") from None
    if "\x00" in text:
        raise UserInputError("The file is not a text CSV (it holds NUL bytes).")
    return text, "UTF-8 with a byte-order mark" if raw.startswith(codecs.BOM_UTF8) else "utf-8"


def _separator(sample: list[str]) -> str:
    """The separator that splits the first line, and most others, into the same fields (> 1)."""
    for sep in SEPARATORS:
        counts = [len(row) for row in csv.reader(sample, delimiter=sep)]
        if counts[0] > 1 and counts.count(counts[0]) > len(counts) / 2:
            return sep
    return ","  # one column: a stray separator is named by _check_fields


def _is_number(field: str, decimal: str) -> bool:
    try:
        float(field.replace(decimal, ".") if decimal != "." else field)
    except ValueError:
        return False
    return True


def _check_fields(text: str, sep: str, expected: int, header: bool) -> list[int]:
    """Line numbers of the data rows, after checking each has as many fields as the first."""
    lines = []
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    for row in reader:
        if not row:
            continue  # blank lines are skipped, by pandas too
        if len(row) != expected:
            what = "the header" if header else "line 1"
            raise UserInputError(
                f"Line {reader.line_num} has {len(row)} fields where {what} has {expected} "
                f"(separator {SEPARATOR_NAMES[sep]}). Fix that line, or export the file again."
            )
        lines.append(reader.line_num)
        if len(lines) > MAX_ROWS + header:
            raise UserInputError(
                f"The file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}."
            )
    return lines[1:] if header else lines


def table_from_frame(
    frame: pd.DataFrame, label_col: str | None = None, drop_missing: bool = False
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Numeric features (n, d), binary labels or None, and the feature names."""
    labels = None
    label_col = (label_col or "").strip()
    if label_col:
        if label_col not in frame.columns:
            raise UserInputError(
                f"Label column {label_col!r} not found; "
                f"columns are: {', '.join(map(str, frame.columns))}."
            )
        labels, frame = frame[label_col], frame.drop(columns=label_col)  # the caller keeps it
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            as_numbers = pd.to_numeric(frame[name], errors="coerce")
            text = frame[name][as_numbers.isna() & frame[name].notna()]
            if as_numbers.notna().any() and len(text):  # some cells are numbers, others text
                raise UserInputError(
                    f"Column {str(name)!r} has cells that mix numbers and text: line "
                    f"{text.index[0]} holds {text.iloc[0]!r}. Fix or remove the text cells."
                )
    numeric = frame.select_dtypes("number")
    if numeric.shape[1] == 0:
        raise UserInputError(
            f"The CSV has no numeric columns (columns are: {', '.join(map(str, frame.columns))})."
        )
    values = numeric.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values).all(axis=1)
    if labels is not None:
        bad |= labels.isna().to_numpy()
    if bad.any():
        if not drop_missing:
            raise UserInputError(
                f"{bad.sum()} row(s) hold NaN, empty or infinite values (the first: line "
                f"{numeric.index[np.argmax(bad)]}). Tick 'drop rows with missing values' to drop "
                "them, or clean the file."
            )
        values, numeric = values[~bad], numeric[~bad]
        labels = None if labels is None else labels[~bad]
    if labels is not None:
        labels = _binary_labels(labels)
    if len(values) < MIN_ROWS:
        raise UserInputError(f"The data has {len(values)} usable rows; at least {MIN_ROWS} needed.")
    return values.astype(np.float32), labels, [str(c) for c in numeric.columns]


def _binary_labels(labels: pd.Series) -> np.ndarray:
    classes = sorted(pd.unique(labels), key=str)
    if len(classes) > 2:
        shown = ", ".join(map(str, classes[:8])) + (", ..." if len(classes) > 8 else "")
        raise UserInputError(
            "The label column must be binary (normal/anomaly); "
            f"it has {len(classes)} classes: {shown}."
        )
    try:
        numbers = labels.astype(float).to_numpy()
    except (TypeError, ValueError):
        raise UserInputError(
            f"Labels must be 0 (normal) and 1 (anomaly); found: {', '.join(map(str, classes))}."
        ) from None
    if not np.isin(numbers, (0, 1)).all():
        raise UserInputError(
            f"Labels must be 0 (normal) and 1 (anomaly); found: {', '.join(map(str, classes))}."
        )
    return numbers.astype(np.int64)


def task_from_frame(
    frame: pd.DataFrame,
    name: str = "uploaded CSV",
    layout: str = "table",
    label_col: str | None = None,
    window: int = ECG_WINDOW,
    stride: int = 1,
    drop_missing: bool = False,
    semi_supervised: bool = True,
    seed: int = 0,
) -> AnomalyData:
    """A user's table (one sample per row) or series (one column) as a task to train on."""
    x, y, columns = table_from_frame(frame, label_col, drop_missing)
    if layout == "series":
        if x.shape[1] != 1:
            raise UserInputError(
                f"A series needs exactly one numeric column (plus an optional label); this file "
                f"has {x.shape[1]}: {', '.join(columns)}."
            )
        series = x[:, 0]
        task = series_task(name, series, series, y, window, stride)
        if y is not None and semi_supervised:  # learn only from windows with no anomalous point
            task.train = task.train[task.test_labels == 0]
        return task
    if layout != "table":
        raise UserInputError(f"Unknown layout {layout!r}; choose 'table' or 'series'.")
    if y is None:
        return AnomalyData(name=name, kind="table", train=x, test=x, columns=columns)
    if y.min() == y.max():
        raise UserInputError("The label column has one class only; both 0 and 1 are needed.")
    parts = split_labelled(x, y, seed, semi_supervised)
    return AnomalyData(name=name, kind="table", columns=columns, **parts)
