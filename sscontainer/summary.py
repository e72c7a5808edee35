"""Plain-text tables for ``Experiment.summary`` and the CLI's status output."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], style: str) -> str:
    """Render a table; ``github`` gives a Markdown table, ``plain`` aligned columns."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        padded = [v.ljust(w) for v, w in zip(values, widths, strict=True)]
        return "| " + " | ".join(padded) + " |" if style == "github" else "  ".join(padded)

    out = [line(headers)]
    if style == "github":
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(row) for row in cells)
    return "\n".join(line.rstrip() for line in out)


TABLE_STYLES = ("github", "plain")
