"""Results tables for the notebooks: HTML in JupyterLab and on GitHub (the best value of each column
in bold, the number of images averaged in the caption), plain text in papermill logs and ``print``."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

# which way is better for each score the course reports
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "ms_ssim": True, "rmse": False, "niqe": False, "ma": True,
                    "pi": False, "shift": False}
HEADERS = {"psnr": "PSNR-Y (dB)", "ssim": "SSIM-Y", "ms_ssim": "MS-SSIM-Y", "rmse": "RMSE-Y", "niqe": "NIQE",
           "ma": "Ma", "pi": "PI", "shift": "colour shift"}


@dataclass
class ResultsTable:
    """Mean scores of several methods over ``n_images`` images: ``rows[method][score]``.

    ``columns`` are score keys (headers and "better" directions from :data:`HEADERS` and
    :data:`HIGHER_IS_BETTER`); ``notes`` adds a last text column (e.g. the paper's numbers)."""

    rows: dict[str, dict[str, float]]
    columns: tuple[str, ...]
    n_images: int
    caption: str = ""
    notes: dict[str, str] = field(default_factory=dict)
    notes_header: str = ""

    def best(self, column: str) -> float:
        """The best finite value of ``column`` (NaN when there is none)."""
        values = [row[column] for row in self.rows.values() if math.isfinite(row.get(column, math.nan))]
        if not values:
            return math.nan
        return max(values) if HIGHER_IS_BETTER.get(column, True) else min(values)

    def _cell(self, row: dict, column: str) -> str:
        value = row.get(column, math.nan)
        if not math.isfinite(value):
            return "n/a"
        return f"{value:.4f}" if column in ("ssim", "ms_ssim") else f"{value:.2f}"

    def _title(self) -> str:
        title = "one image" if self.n_images == 1 else f"mean of {self.n_images} images"
        return f"{title}; {self.caption}" if self.caption else title

    def _repr_html_(self) -> str:
        arrows = {c: " &uarr;" if HIGHER_IS_BETTER.get(c, True) else " &darr;" for c in self.columns}
        head = "".join(f"<th>{html.escape(HEADERS.get(c, c))}{arrows[c]}</th>" for c in self.columns)
        head += f"<th>{html.escape(self.notes_header)}</th>" if self.notes else ""
        body = []
        for method, row in self.rows.items():
            cells = []
            for column in self.columns:
                text = self._cell(row, column)
                best = row.get(column) == self.best(column)
                cells.append(f"<td style='text-align:right'>{'<b>' + text + '</b>' if best else text}</td>")
            if self.notes:
                cells.append(f"<td>{html.escape(self.notes.get(method, ''))}</td>")
            body.append(f"<tr><td style='text-align:left'>{html.escape(method)}</td>{''.join(cells)}</tr>")
        return (f"<table><caption style='caption-side:top;text-align:left'>{html.escape(self._title())}; "
                f"best in bold</caption><thead><tr><th style='text-align:left'>method</th>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")

    def __str__(self) -> str:
        width = max(len(m) for m in self.rows) + 2
        lines = [self._title() + "; * = best",
                 f"{'method':<{width}}" + "".join(f"{HEADERS.get(c, c):>13}" for c in self.columns)
                 + (f"   {self.notes_header}" if self.notes else "")]
        for method, row in self.rows.items():
            cells = "".join(f"{self._cell(row, c) + ('*' if row.get(c) == self.best(c) else ' '):>13}"
                            for c in self.columns)
            lines.append(f"{method:<{width}}{cells}" + (f"   {self.notes.get(method, '')}" if self.notes else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


@dataclass
class TableSet:
    """Several :class:`ResultsTable` shown one after the other (HTML or text)."""

    tables: list[ResultsTable]

    def _repr_html_(self) -> str:
        return "<br>".join(table._repr_html_() for table in self.tables)

    def __str__(self) -> str:
        return "\n\n".join(str(table) for table in self.tables)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def per_image_tables(rows: dict[str, list[dict]], columns: tuple[str, ...], caption: str = "") -> TableSet:
    """One table per image from ``rows[method]`` = that method's per-image rows (each with an "image" key, as
    :class:`srlib.evaluation.metrics.EvaluationTable` keeps them): the numbers a mean hides, best per image."""
    images = [row["image"] for row in next(iter(rows.values()))]
    tables = []
    for image in images:
        by_method = {method: next(row for row in method_rows if row["image"] == image)
                     for method, method_rows in rows.items()}
        tables.append(ResultsTable(by_method, columns, 1, f"{image}; {caption}" if caption else image))
    return TableSet(tables)
