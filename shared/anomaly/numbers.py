"""How a CSV writes its numbers: the decimal mark and thousands separator, read from its cells.

A comma is a decimal mark in most of Europe and a thousands separator in English; a dot is the
reverse. Most cells tell which ('0,15', '12,5', '1.234,5' can only be decimal commas), some
cannot ('1,234'). The format is read from every cell of the file, and a file that says both, or
nothing that decides, is refused by line rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shared.errors import UserInputError


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes its numbers: the decimal mark and the thousands separator (or None)."""

    decimal: str = "."
    thousands: str | None = None

    def pattern(self) -> re.Pattern:
        whole = r"\d+"
        if self.thousands:  # a grouped number: 1 to 3 digits, then groups of exactly 3
            whole = rf"(?:\d+|[1-9]\d{{0,2}}(?:{re.escape(self.thousands)}\d{{3}})+)"
        mark = re.escape(self.decimal)
        return re.compile(
            rf"\s*[+-]?(?:(?:{whole}(?:{mark}\d*)?|{mark}\d+)(?:[eE][+-]?\d+)?|inf|infinity)\s*",
            re.IGNORECASE,
        )


# What one cell says about the format: a decimal comma, a decimal point, or either.
_GROUPED = r"[1-9]\d{{0,2}}(?:\{0}\d{{3}})"  # 1 to 3 digits, then groups of 3 after {0}
AMBIGUOUS = r"[+-]?[1-9]\d{0,2}[.,]\d{3}"  # 1,234 and 1.234: a decimal mark or thousands
DECIMAL_COMMA = (  # 0,15  12,5  1.234,5  1.234.567
    rf"[+-]?(?:\d*|{_GROUPED.format('.')}+),\d+|[+-]?{_GROUPED.format('.')}{{2,}}"
)
DECIMAL_POINT = (  # 2.5  1,234.5  1e-3  1,234,567
    rf"[+-]?(?:\d*|{_GROUPED.format(',')}+)\.\d+(?:[eE][+-]?\d+)?|[+-]?{_GROUPED.format(',')}{{2,}}"
)


def is_number(cell: object, number: NumberFormat) -> bool:
    return isinstance(cell, str) and bool(number.pattern().fullmatch(cell))


def looks_numeric(field: str) -> bool:
    """A number in any of the formats read here (the header test before the format is known)."""
    if any(re.fullmatch(p, field.strip()) for p in (AMBIGUOUS, DECIMAL_COMMA, DECIMAL_POINT)):
        return True
    try:
        float(field)
    except ValueError:
        return False
    return True


def number_format(cells: pd.DataFrame, sep: str) -> NumberFormat:
    """The decimal mark and thousands separator the file's numbers are written with.

    Most cells tell: '0,15', '12,5' and '1.234,5' can only be decimal commas, '2.5' and
    '1,234.5' only decimal points. '1,234' and '1.234' could be either. A file whose cells say
    both, or whose ambiguous cells nothing else decides, is refused with the line.
    """
    proof: dict[str, tuple[int, str]] = {}  # decimal mark -> the first line and cell proving it
    ambiguous: list[tuple[int, str]] = []
    for _, column in cells.items():
        either = column.str.fullmatch(rf"\s*{AMBIGUOUS}\s*").fillna(False)
        if either.any():
            ambiguous.append((column.index[either.to_numpy()][0], column[either].iloc[0].strip()))
        for decimal, pattern in ((",", DECIMAL_COMMA), (".", DECIMAL_POINT)):
            found = column[~either & column.str.fullmatch(rf"\s*(?:{pattern})\s*").fillna(False)]
            first = (found.index[0], found.iloc[0].strip()) if len(found) else None
            if first and (decimal not in proof or first < proof[decimal]):
                proof[decimal] = first
    if len(proof) == 2:
        (line_c, cell_c), (line_d, cell_d) = proof[","], proof["."]
        raise UserInputError(
            f"Line {line_c} holds {cell_c!r} (a decimal comma) and line {line_d} holds {cell_d!r} "
            "(a decimal point): the file writes numbers two ways. Export it again with one "
            "decimal mark."
        )
    if proof:
        decimal = next(iter(proof))
        return NumberFormat(decimal, "." if decimal == "," else ",")
    if sep == ",":  # '1.234' in a comma file is the usual decimal point
        ambiguous = [(line, cell) for line, cell in ambiguous if "," in cell]
    if ambiguous:
        line, cell = min(ambiguous)
        mark = "," if "," in cell else "."
        raise UserInputError(
            f"Line {line} holds {cell!r}: is '{mark}' its decimal mark "
            f"({float(cell.replace(',', '.')):g}) or a thousands separator "
            f"({float(re.sub('[.,]', '', cell)):g})? No other number in the file tells. Export "
            "it again without thousands separators."
        )
    return NumberFormat()


def to_numbers(cells: pd.DataFrame, number: NumberFormat) -> tuple[pd.DataFrame, tuple | None]:
    """Columns of numbers as numbers (text columns stay text), and one thousands-grouped cell
    with its value, to show the reader; a column that mixes numbers and text is refused."""
    pattern, columns, example = number.pattern(), {}, None
    for name, column in cells.items():
        if pd.api.types.is_numeric_dtype(column):  # pandas read it: every cell a number
            columns[name] = column
            continue
        present = column.notna()
        if number == NumberFormat():  # pandas' own reading of numbers
            values = pd.to_numeric(column.to_numpy(object), errors="coerce")
            values, numeric = (
                pd.Series(values, column.index),
                pd.Series(~np.isnan(values), column.index),
            )
        else:
            numeric = column.str.fullmatch(pattern).fillna(False).astype(bool)
            plain = column[numeric].str.replace(number.thousands, "", regex=False)
            values = _floats(plain.str.replace(number.decimal, ".", regex=False).str.strip())
            values = values.reindex(column.index)
            grouped = column[numeric & column.str.contains(number.thousands, regex=False)]
            if example is None and len(grouped):
                example = (grouped.iloc[0].strip(), float(values[grouped.index[0]]))
        text = present & ~numeric
        if present.any() and not numeric.any():
            columns[name] = column
        elif text.any():  # numbers as numbers, the text as it was: table_from_frame names it
            columns[name] = values.astype(object).where(numeric, column)
        elif present.all() and column.str.fullmatch(r"\s*[+-]?\d+\s*").all():
            columns[name] = values.astype(np.int64)
        else:
            columns[name] = values.astype(np.float64)
    return pd.DataFrame(columns, index=cells.index), example


def _floats(cells: pd.Series) -> pd.Series:
    """Checked number cells as floats: Arrow's own cast (4 ms against 52 ms through Python's
    float for 200,000 cells, measured here), or Python's where Arrow declines a spelling."""
    try:
        return cells.astype("float64[pyarrow]").astype(np.float64)
    except (ValueError, TypeError):
        return cells.astype(np.float64)
