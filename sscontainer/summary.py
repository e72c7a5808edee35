"""Plain-text tables for ``Experiment.summary`` and the CLI's status output."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    style: str,
    show_index: bool = False,
) -> str:
    """Render a table; ``github`` gives a Markdown table, ``plain`` aligned columns.

    ``show_index`` adds a first column numbering the rows from 0, with an empty
    header (as tabulate's ``showindex=True``, which SmartSim's summary uses).
    """
    if show_index:
        headers = ["", *headers]
        rows = [[i, *row] for i, row in enumerate(rows)]
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


def launch_summary(
    name: str,
    exp_path: str,
    launcher: str,
    entities: Sequence[tuple[str, str]],
    database_status: str,
) -> str:
    """SmartSim's ``=== Launch Summary ===`` block, logged by ``start(summary=True)``.

    ``entities`` are (type, name) pairs; ``database_status`` is ``active``,
    ``launching`` or ``inactive``.
    """
    models = sum(1 for kind, _ in entities if kind == "Model")
    lines = [
        "",
        "=== Launch Summary ===",
        f"Experiment: {name}",
        f"Experiment Path: {exp_path}",
        f"Launcher: {launcher}",
    ]
    if models:
        lines.append(f"Models: {models}")
    lines.append(f"Database Status: {database_status}")
    lines += ["", *(f"{kind}: {entity}" for kind, entity in entities)]
    return "\n".join(lines)
