"""What lambdasim prints on a terminal: tables and text, rendered by rich.

Every table the command line prints (a run's summary, replications, a sweep and its paired
comparisons, ``tune``, ``plan``) is described here as plain data -- a :class:`TextTable` of
:class:`Column` headers and rows of already formatted cells -- and drawn by rich
(https://rich.readthedocs.io), which aligns the columns, wraps the titles and, on a terminal,
sets headers in bold. A page is a list of blocks: a :class:`TextTable`, a :class:`Paragraph`
(wrapped at the width) or a :class:`Lines` block (lines kept as they are, such as the
assumptions and findings lists, already wrapped by their writers).

Two ways out, one layout:

* :func:`render_text` returns plain text -- no colour, no escape codes, lines without trailing
  spaces, at most :data:`WIDTH` columns -- for pipes, CI logs, files and the Python API
  (``format_summary_table`` and its siblings).
* :func:`print_page` writes to a stream: plain text when the stream is not a terminal; on a
  terminal, the same layout with bold headers (no colour at all when ``NO_COLOR`` is set, as
  https://no-color.org asks; rich honours it), at most :data:`WIDTH` columns or the terminal's
  width if narrower.

A table wider than the width is split into several tables with the same leading columns (the
row labels), so every figure keeps its row and no cell is cut. Cells are rich ``Text``, never
markup: ``mean [low, high]`` is printed as written. rich is imported only inside the functions
that draw, so ``--help``, ``validate`` and ``schema`` never load it.
"""
from __future__ import annotations

import dataclasses
import os
import textwrap
from typing import Any, Iterable, Sequence, TextIO, Union

__all__ = ["WIDTH", "Column", "TextTable", "Paragraph", "Lines", "Block", "render_text",
           "print_page", "wrap_header"]

#: Printed pages fit this many columns (a table wider than this is split).
WIDTH = 100
#: Space between two columns: one padding cell and the box's blank divider.
_GAP = 2


@dataclasses.dataclass(frozen=True)
class Column:
    """One column: its header (``\\n`` breaks it into lines), how its cells align, and
    whether its cells may wrap (words such as a verdict; figures never wrap)."""

    header: str
    justify: str = "right"  # "right" for figures, "left" for labels and words
    wrap: bool = False


@dataclasses.dataclass
class TextTable:
    """A table of formatted cells.

    Attributes
    ----------
    columns : list of Column
    rows : list of list of str
        One cell per column; cells are printed exactly as given.
    keep : int
        The leading columns (row labels) repeated in each part when the table is split to fit
        the width.
    """

    columns: list[Column]
    rows: list[list[str]]
    keep: int = 1


@dataclasses.dataclass(frozen=True)
class Paragraph:
    """Text wrapped at the page width; ``bold`` on a terminal (a title)."""

    text: str
    bold: bool = False


@dataclasses.dataclass(frozen=True)
class Lines:
    """Lines printed as they are (lists already wrapped by their writers), or a blank line."""

    lines: tuple[str, ...] = ("",)


Block = Union[TextTable, Paragraph, Lines]


def wrap_header(text: str, body: Iterable[str], least: int = 10) -> str:
    """A header broken into lines no wider than its column's widest cell (or ``least``), so
    that a long name such as ``checkout latency p99 per request`` does not widen a table."""
    width = max([least] + [len(cell) for cell in body])
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False,
                                   break_long_words=False)) or text


#: A wrapping column is counted this wide at most when a table is split to fit.
_WRAPPED = 30


def _widths(table: TextTable) -> list[int]:
    widths = [max([len(line) for line in column.header.split("\n")]
                  + [len(row[i]) for row in table.rows])
              for i, column in enumerate(table.columns)]
    return [min(w, _WRAPPED) if c.wrap else w for w, c in zip(widths, table.columns)]


def _parts(table: TextTable, width: int) -> list[list[int]]:
    """Column indexes of each part: the ``keep`` columns, then as many others as fit."""
    widths = _widths(table)
    keep = list(range(min(table.keep, len(widths))))
    base = sum(widths[i] for i in keep) + _GAP * max(0, len(keep) - 1)
    parts: list[list[int]] = []
    current: list[int] = []
    used = base
    for i in range(len(keep), len(widths)):
        extra = widths[i] + (_GAP if keep or current else 0)
        if current and used + extra > width:
            parts.append(keep + current)
            current, used = [], base
            extra = widths[i] + (_GAP if keep else 0)
        current.append(i)
        used += extra
    parts.append(keep + current)
    return parts


def _rich_tables(table: TextTable, width: int) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = []
    for part in _parts(table, width):
        grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                     header_style="bold", expand=False)
        # Headers sit on the rule (bottom-aligned); a cell that wraps grows downwards.
        height = max(table.columns[i].header.count("\n") for i in part)
        for i in part:
            column = table.columns[i]
            header = "\n" * (height - column.header.count("\n")) + column.header
            grid.add_column(Text(header), justify=column.justify, vertical="top",
                            no_wrap=not column.wrap, overflow="fold")
        for row in table.rows:
            grid.add_row(*(Text(row[i]) for i in part))
        out.append(grid)
    return out


def _renderables(blocks: Sequence[Block], width: int) -> list[Any]:
    from rich.text import Text

    out: list[Any] = []
    for block in blocks:
        if isinstance(block, TextTable):
            for n, grid in enumerate(_rich_tables(block, width)):
                if n:
                    out.append(Text(""))
                out.append(grid)
        elif isinstance(block, Paragraph):
            out.append(Text(block.text, style="bold" if block.bold else ""))
        else:
            out.extend(Text(line, no_wrap=False, overflow="fold") for line in block.lines)
    return out


def _console(stream: TextIO, width: int, terminal: bool):
    from rich.console import Console

    if terminal:  # styles on; rich drops colour itself when NO_COLOR is set
        return Console(file=stream, width=width, force_terminal=True, highlight=False,
                       markup=False, emoji=False, soft_wrap=False)
    return Console(file=stream, width=width, force_terminal=False, color_system=None,
                   no_color=True, highlight=False, markup=False, emoji=False, soft_wrap=False,
                   force_jupyter=False, legacy_windows=False)


def render_text(blocks: Sequence[Block], width: int = WIDTH) -> str:
    """The page as plain text: no escape codes, no trailing spaces, ending in a newline."""
    import io

    buffer = io.StringIO()
    console = _console(buffer, width, terminal=False)
    for item in _renderables(blocks, width):
        console.print(item)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def print_page(blocks: Sequence[Block], stream: TextIO | None = None) -> None:
    """Print a page on ``stream`` (stdout): styled on a terminal, plain text otherwise."""
    import sys

    stream = sys.stdout if stream is None else stream
    if not _is_terminal(stream):
        stream.write(render_text(blocks))
        stream.flush()
        return
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = WIDTH
    width = max(40, min(WIDTH, columns))
    console = _console(stream, width, terminal=True)
    for item in _renderables(blocks, width):
        console.print(item)
