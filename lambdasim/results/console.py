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

A table wider than the width is split into several tables with the same leading columns (the row
labels), so every figure keeps its row and no cell is cut. On a narrow terminal (40 columns) a
part that is still too wide gets narrower label columns whose words wrap, then figure headers
that wrap; a figure cell never wraps nor is cut: a part that cannot fit even so is printed wider
than the terminal, which wraps its lines. A terminal that reports 0 columns (a pseudo-terminal
of size 0x0) is of unknown width and drawn at :data:`WIDTH`, as a pipe. Cells are rich ``Text``,
never markup: ``mean [low, high]`` is printed as written. rich is imported only inside the
functions that draw, so ``--help``, ``validate`` and ``schema`` never load it.
"""
from __future__ import annotations

import dataclasses
import os
import re
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
#: A label column is not made narrower than this on a narrow terminal (its words wrap).
_LEAST = 8
#: A word that is a figure: digits with separators, a sign, currency, brackets or a percent.
_FIGURE = re.compile(r"^[(\[<$+-]*\d[\d,.:-]*[%)\],;:]*$")
#: Labels keep this width, if they can, before the headers of figure columns wrap.
_READABLE = 20


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


def _shrinks(column: Column) -> bool:
    """Whether a column may be narrower than its widest cell: labels and words wrap there;
    figures (right-aligned cells that do not wrap) never do."""
    return column.wrap or column.justify == "left"


def _floor(table: TextTable, i: int) -> int:
    """The narrowest column ``i`` may be drawn.

    A figure column: its widest cell (a figure is never broken; a long header wraps). A label
    column: :data:`_LEAST`, or its longest figure (a number inside a label, ``1,024 MB``, is
    not broken either; a word such as ``arm64/x86_64`` may be), or its widest cell if that is
    narrower.
    """
    cells = [row[i] for row in table.rows]
    widest = max([len(cell) for cell in cells], default=0)
    if not _shrinks(table.columns[i]):
        return max(1, widest)
    longest = max([len(word) for cell in cells for word in cell.split()
                   if _FIGURE.match(word)], default=0)
    natural = _widths(table)[i]
    return max(1, min(natural, max(_LEAST, longest)))


def _fit(table: TextTable, part: list[int], width: int) -> list[int] | None:
    """Widths for the columns of ``part`` so that the part fits ``width``; None when it fits
    as it is. Label columns give way first (the widest first, down to :func:`_floor`), then
    the headers of figure columns wrap; a part that cannot fit even so is drawn at its
    narrowest (the terminal wraps the lines; no figure is cut)."""
    natural = _widths(table)
    widths = [natural[i] for i in part]
    total = lambda: sum(widths) + _GAP * (len(widths) - 1)  # noqa: E731
    if total() <= width:
        return None
    floors = [_floor(table, i) for i in part]
    # Labels give way first, while they keep a readable width; then figure columns give up
    # the width of their headers (which wrap).
    roomy = [max(f, min(natural[i], _READABLE)) if _shrinks(table.columns[i]) else w
             for f, i, w in zip(floors, part, widths)]
    if sum(roomy) + _GAP * (len(roomy) - 1) <= width:
        floors = roomy
    for n, i in enumerate(part):
        if not _shrinks(table.columns[i]):
            widths[n] = floors[n]
    while total() > width:
        room = [n for n in range(len(part)) if widths[n] > floors[n]]
        if not room:
            break
        n = max(room, key=lambda k: widths[k] - floors[k])
        widths[n] -= 1
    # Width left over goes back to headers that must wrap, then to labels.
    spare = width - total()
    for n, i in enumerate(part):
        if spare <= 0:
            break
        give = min(spare, natural[i] - widths[n])
        if give > 0 and not _shrinks(table.columns[i]):
            widths[n] += give
            spare -= give
    return widths


def _header_lines(text: str, width: int | None) -> list[str]:
    lines = text.split("\n")
    if width is None:
        return lines
    return [piece for line in lines
            for piece in (textwrap.wrap(line, width, break_on_hyphens=False) or [""])]


def _rich_tables(table: TextTable, width: int) -> list[tuple[Any, int]]:
    """The parts of ``table`` as rich tables, each with the width it needs (more than
    ``width`` only when a part cannot be narrower without cutting a figure)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = []
    for part in _parts(table, width):
        fixed = _fit(table, part, width)
        grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                     header_style="bold", expand=False)
        headers = [_header_lines(table.columns[i].header, None if fixed is None else fixed[n])
                   for n, i in enumerate(part)]
        # Headers sit on the rule (bottom-aligned); a cell that wraps grows downwards.
        height = max(len(lines) for lines in headers)
        for n, i in enumerate(part):
            column = table.columns[i]
            header = "\n".join([""] * (height - len(headers[n])) + headers[n])
            wraps = column.wrap or (fixed is not None and _shrinks(column))
            grid.add_column(Text(header), justify=column.justify, vertical="top",
                            no_wrap=not wraps, overflow="fold",
                            width=None if fixed is None else fixed[n])
        for row in table.rows:
            grid.add_row(*(Text(row[i]) for i in part))
        needed = width if fixed is None else max(width, sum(fixed) + _GAP * (len(fixed) - 1))
        out.append((grid, needed))
    return out


def _renderables(blocks: Sequence[Block], width: int) -> list[tuple[Any, int]]:
    """What to print, each with the width to print it at (``width`` but for a table part
    that cannot be narrower)."""
    from rich.text import Text

    out: list[tuple[Any, int]] = []
    for block in blocks:
        if isinstance(block, TextTable):
            for n, (grid, needed) in enumerate(_rich_tables(block, width)):
                if n:
                    out.append((Text(""), width))
                out.append((grid, needed))
        elif isinstance(block, Paragraph):
            out.append((Text(block.text, style="bold" if block.bold else ""), width))
        else:
            out.extend((Text(line, no_wrap=False, overflow="fold"), width)
                       for line in block.lines)
    return out


def _usable(width: int | None) -> int:
    """A page width: an unknown width (None, 0 or less, as a pseudo-terminal of size 0x0
    reports) is :data:`WIDTH`, as for a pipe; a known one at most :data:`WIDTH`."""
    if width is None or width <= 0:
        return WIDTH
    return min(WIDTH, width)


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

    width = _usable(width)
    buffer = io.StringIO()
    consoles = {width: _console(buffer, width, terminal=False)}
    for item, needed in _renderables(blocks, width):
        if needed not in consoles:
            consoles[needed] = _console(buffer, needed, terminal=False)
        consoles[needed].print(item)
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
        columns: int | None = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = None
    width = max(40, _usable(columns))
    consoles = {width: _console(stream, width, terminal=True)}
    for item, needed in _renderables(blocks, width):
        if needed not in consoles:
            consoles[needed] = _console(stream, needed, terminal=True)
        consoles[needed].print(item)
