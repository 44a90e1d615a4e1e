"""Files people upload: CSVs read the way they were written, or refused with the line at fault.

Exports are not all comma-and-dot UTF-8 with a header: European spreadsheets write `;`
separators, `,` decimals and `.` thousands, Excel writes a byte-order mark or a first line
`sep=;`, Windows tools write Windows-1252, some tools end every line with a separator or write
no header row. pandas' default read splits such a file on its decimal commas and returns wrong
numbers without an error, so `read_csv` sniffs the separator, the number format
(shared.anomaly.numbers), the header and the encoding, says what it read, and refuses a
misread: a row with a different number of fields, a number that could be read two ways.
Row labels of the frame it returns are the rows' line numbers in the file.
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
from shared.anomaly.numbers import NumberFormat, is_number, looks_numeric, number_format, to_numbers
from shared.errors import UserInputError

MIN_ROWS = 20  # fewer samples than this cannot both train an autoencoder and check it
MAX_ROWS = 200_000  # rows read from one CSV; the cap that keeps a 10-million-row file cheap
MAX_CSV_BYTES = 20 * 1024 * 1024  # the CLI's size limit; the app's upload limit is the same 20 MB
SEPARATORS = (";", "\t", "|", ",")  # tried in this order: a comma may be a decimal mark
SNIFF_LINES = 50  # lines the separator is guessed from
SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
EXCEL_SEP_LINE = re.compile(r"sep=(.)")  # Excel's first line "sep=;" names the separator
# A byte-order mark names its encoding; UTF-32's marks start with UTF-16's, so they come first.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # bytes no text file holds
FALLBACK_ENCODING = ("cp1252", "Windows-1252")  # Windows' own; a superset of Latin-1's letters


@dataclass(frozen=True)
class CsvFile:
    """A CSV as read: the frame (indexed by line number) and what was read, in words.

    `notes` are the things read differently from a plain comma-and-dot UTF-8 file (an encoding
    fallback, Excel's 'sep=' line, a dropped empty column, thousands separators); `description`
    ends with them too.
    """

    frame: pd.DataFrame
    description: str
    notes: tuple[str, ...] = ()


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
    text, encoding, notes = *_decode(path.read_bytes()), []
    if encoding == FALLBACK_ENCODING[1]:
        notes.append(f"decoded as {encoding} (it is not UTF-8)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac exports end lines in \r
    first_line, _, rest = text.partition("\n")
    excel = EXCEL_SEP_LINE.fullmatch(first_line.rstrip(" "))
    if excel:  # keep the line as a blank one, so line numbers stay the file's
        text = "\n" + rest
        notes.append("skipped Excel's 'sep=' line")
    sample = [row for row in text.splitlines()[: SNIFF_LINES * 2] if row.strip()][:SNIFF_LINES]
    if not sample:
        raise UserInputError("The file holds only blank lines.")
    try:
        sep = excel.group(1) if excel else _separator(sample)
        lines, width, trailing, head = _check_fields(text, sep)
    except csv.Error as err:  # e.g. a field over the csv module's 131,072-character limit
        raise UserInputError(f"The file is not a readable CSV: {err}.") from None
    if sep == "," and '"' not in text:  # no cell can hold a comma: pandas reads the numbers
        number = NumberFormat()
        header = not all(is_number(cell, number) for cell in head)
        cells = _pandas_read(text, sep, width, header=0 if header else None, dtype=None)
        cells.index = pd.Index(lines[1:] if header else lines, name="line")
    else:  # read as text, and read the numbers the way the file writes them
        cells = _pandas_read(text, sep, width, header=None, dtype=str)
        cells.index = pd.Index(lines, name="line")
        number = number_format(cells, sep)
        header = not all(is_number(cell, number) for cell in cells.iloc[0])
        cells = cells.iloc[1:] if header else cells
    if trailing:
        cells = cells.iloc[:, :-1]
        head = head[:-1]
        notes.append(f"dropped the empty column {width} (a separator at each line's end)")
    if cells.empty:
        raise UserInputError("The CSV has a header but no rows.")
    if len(cells) > MAX_ROWS:
        raise too_many_rows()
    cells.columns = _column_names(head) if header else [str(i) for i in range(cells.shape[1])]
    frame, example = to_numbers(cells, number)
    if example:
        notes.append(f"read {example[0]!r} as {example[1]:.15g}")
    what = [
        f"{len(frame):,} rows x {frame.shape[1]} columns",
        f"separator {SEPARATOR_NAMES.get(sep, repr(sep))}",
        f"decimal '{number.decimal}'",
        "header row" if header else "no header row (columns named 0, 1, ...)",
    ]
    if encoding not in ("utf-8", FALLBACK_ENCODING[1]):
        what.append(encoding)
    described = "Read " + ", ".join(what) + "."
    if notes:
        said = "; ".join(notes)
        described += f" {said[0].upper()}{said[1:]}."
    return CsvFile(frame, described, tuple(notes))


def _pandas_read(
    text: str, sep: str, width: int, header: int | None, dtype: type | None
) -> pd.DataFrame:
    """pandas' reading of the checked text; what it cannot parse is refused with its reason."""
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, header=header, names=range(width), dtype=dtype
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserInputError(f"The file is not a readable CSV: {first}") from None


def too_many_rows() -> UserInputError:
    return UserInputError(f"The file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}.")


def _decode(raw: bytes) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (a BOM is dropped), UTF-16 or UTF-32 with a BOM,
    or else Windows-1252, whose letters include Latin-1's (é, ü, ß, °)."""
    for bom, codec, name in BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), name
            except UnicodeDecodeError:
                raise UserInputError(f"The file starts as {name} but is not {name} text.") from None
    if b"\x00" in raw:
        raise UserInputError("The file is not a text CSV (it holds NUL bytes).")
    try:
        text = raw.decode("utf-8-sig")
        return text, "UTF-8 with a byte-order mark" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode(FALLBACK_ENCODING[0])
    except UnicodeDecodeError:
        raise UserInputError(
            "The file is not a text CSV (it is neither UTF-8 nor Windows-1252 text)."
        ) from None
    if CONTROL.search(text):
        raise UserInputError("The file is not a text CSV (it holds control bytes).")
    return text, FALLBACK_ENCODING[1]


def _separator(sample: list[str]) -> str:
    """The separator that splits the first line, and most others, into the same fields (> 1)."""
    for sep in SEPARATORS:
        cut = [row[: -len(sep)] if row.endswith(sep) else row for row in sample]  # a;b; as a;b
        for lines in (sample, cut):
            counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
            if counts[0] > 1 and counts.count(counts[0]) > len(counts) / 2:
                return sep
    return ","  # one column: a stray separator is named by _check_fields


def _check_fields(text: str, sep: str) -> tuple[list[int], int, bool, list[str]]:
    """The rows' line numbers, their number of fields, whether every line ends in `sep`, and
    the first row.

    Every row must have as many fields as the first. A line that ends in a separator holds one
    more, empty field: when every data line does (the header may or may not), that last column
    is empty and is dropped, rather than leaving a NaN in every row.
    """
    rows = []  # (line number, number of fields, whether the last one is empty)
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    first = None
    for row in reader:
        if not row:
            continue  # blank lines are skipped, by pandas too
        first = first or row
        rows.append((reader.line_num, len(row), not row[-1].strip()))
        if len(rows) > MAX_ROWS + 1:  # more data rows than the limit, with a header or not
            raise too_many_rows()
    expected, data = rows[0][1], rows[1:]
    if data and all(n == expected + 1 and empty for _, n, empty in data):
        return (
            [line for line, _, _ in rows],
            expected + 1,
            True,
            first + [""],
        )  # header has no end sep
    for line, n, _ in data:
        if n != expected:
            header = not all(looks_numeric(f) for f in first)
            what = "the header" if header else f"line {rows[0][0]}"
            raise UserInputError(
                f"Line {line} has {n} fields where {what} has {expected} "
                f"(separator {SEPARATOR_NAMES.get(sep, repr(sep))}). Fix that line, or export "
                "the file again."
            )
    trailing = expected > 1 and all(empty for _, _, empty in rows)
    return [line for line, _, _ in rows], expected, trailing, first


def _column_names(head: pd.Series) -> list[str]:
    """The header's names as pandas gives them: blanks 'Unnamed: i', repeats 'a.1', 'a.2'."""
    names: list[str] = []
    for i, cell in enumerate(head):
        name = f"Unnamed: {i}" if pd.isna(cell) or cell == "" else str(cell)
        base, k = name, 0
        while name in names:
            k += 1
            name = f"{base}.{k}"
        names.append(name)
    return names


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
    if len(values) and bad.all():  # dropping rows would leave none: name the real cause
        raise _nothing_complete(numeric, labels)
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


def _nothing_complete(numeric: pd.DataFrame, labels: pd.Series | None) -> UserInputError:
    """Why every row holds a gap: empty columns, or gaps spread over the columns."""
    gaps = pd.DataFrame(~np.isfinite(numeric.to_numpy(np.float64)), columns=numeric.columns)
    if labels is not None:
        gaps[labels.name] = labels.isna().to_numpy()
    rows = f"all {len(gaps):,} rows"
    empty = [str(c) for c in gaps.columns if gaps[c].all()]
    if empty:
        names = ", ".join(repr(c) for c in empty)
        return UserInputError(
            f"Column{'s' if len(empty) > 1 else ''} {names} {'are' if len(empty) > 1 else 'is'} "
            f"empty in every row, so dropping rows with missing values would drop {rows}. "
            "Remove that column from the file, or fill it in."
        )
    worst = gaps.sum().sort_values(ascending=False)
    shown = ", ".join(f"{c!r} ({n:,})" for c, n in worst[worst > 0].items())
    return UserInputError(
        f"Every row has a missing, empty or infinite value, so dropping rows with missing values "
        f"would drop {rows}. Gaps per column: {shown}. Fill them in, or remove the columns "
        "with the most."
    )


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
