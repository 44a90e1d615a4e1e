"""Real-world CSV exports are read as they were written, and a misread is refused by line.

Each file here is written the way a tool writes it: a European spreadsheet (';' and decimal
','), a header-less numeric dump, Excel's UTF-8 with a byte-order mark, UTF-16, tabs, quotes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.anomaly.upload import read_csv, table_from_frame
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
    ],
)
def test_exports_read_to_the_same_numbers(tmp_path, name, content, said):
    csv = read_csv(write(tmp_path, content))
    assert csv.description.startswith("Read 30 rows x 3 columns, ") and said in csv.description
    assert list(csv.frame.columns) == ["a", "b", "label"]
    x, labels, columns = table_from_frame(csv.frame, "label")
    np.testing.assert_allclose(x, np.array(VALUES)[:, :2], rtol=1e-6)
    np.testing.assert_array_equal(labels, np.array(VALUES)[:, 2])


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
        (b"a,b\n\xff\xfe\xfa1,2\n", "not a text CSV (it is not UTF-8 text)"),
        ("\n\n\n", "only blank lines"),
    ],
)  # fmt: skip
def test_a_misread_is_refused_and_the_line_named(tmp_path, content, message):
    with pytest.raises(UserInputError) as info:
        table_from_frame(read_csv(write(tmp_path, content)).frame)
    assert message in str(info.value)
