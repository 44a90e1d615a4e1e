"""How every benchmark ends: its Markdown report written (into results/ by default) and shown."""

from __future__ import annotations

from pathlib import Path


def write(out: Path, lines: list[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
