"""The main job: run every numbered notebook headless with papermill and summarise the runs.

``srlib course`` executes ``notebooks/NN_*.ipynb`` in order with their default
(CPU-quick) parameters, writes each executed notebook under ``runs/`` and a summary with one line
per notebook: status, wall time and the headline its cell tagged ``headline`` printed. The widgets'
outputs keep their pictures, not their views (:func:`~srlib.notebook.widgets.static_widget_outputs`):
``make course && cp runs/0*.ipynb notebooks/`` is how the committed notebooks are refreshed.
``--set name=value`` overrides a parameter in every notebook that declares it (e.g.
``--set ma_model_path=/data/sr-metric/model.mat`` gives notebook 07 its PI column).
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import papermill

from ..paths import REPO_ROOT
from ..training.config import parse_override
from .widgets import static_widget_outputs

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
_NUMBERED = re.compile(r"^(\d+)_.*\.ipynb$")


@dataclass
class NotebookRun:
    notebook: str
    status: str
    seconds: float
    headline: str

    def line(self) -> str:
        return f"{self.status:<6} {self.seconds:7.1f} s  {self.notebook:<45} {self.headline}"


def _number(notebook: Path) -> int:
    """The chapter number of a notebook ``NN_name.ipynb`` (only such names are listed)."""
    match = _NUMBERED.match(notebook.name)
    assert match is not None, notebook
    return int(match.group(1))


def numbered_notebooks(folder: str | Path = NOTEBOOK_DIR) -> list[Path]:
    """``NN_*.ipynb`` files of ``folder`` in numeric order."""
    found = [p for p in Path(folder).glob("*.ipynb") if _NUMBERED.match(p.name)]
    return sorted(found, key=lambda p: (_number(p), p.name))


def headline_of(notebook: str | Path) -> str:
    """The last printed line of the cell tagged ``headline`` ('' if there is none)."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "headline" in cell.get("metadata", {}).get("tags", []):
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            lines = [line for line in text.strip().splitlines() if line.strip()]
            return lines[-1].strip() if lines else ""
    return ""


_PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")  # tqdm's "42%|████      | 42/100"
_MACHINE = re.compile(r":? ?CPU capability .*$")  # hardware.describe(), at the end of a training run's first line


def clean_saved_outputs(notebook) -> int:
    """Take progress bars and machine descriptions out of a run's saved text outputs (an nbformat notebook,
    changed in place); returns how many outputs changed. A bar's saved text is its state at one instant, and
    which CPU ran the course says nothing about the course: both are for the live view only."""
    changed = 0
    for cell in notebook.cells:
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                lines = re.split(r"[\r\n]+", output.text)
                clean = [_MACHINE.sub("", line) for line in lines if not _PROGRESS_BAR.search(line)]
                text = "\n".join(line for line in clean if line.strip())
                if text != output.text.strip("\n"):
                    changed += 1
                if not text:
                    continue
                output.text = text + "\n"
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
    return changed


def cell_progress(target: Path) -> str:
    """Where papermill is in a notebook it is writing to ``target`` (it saves the file as cells start and end)."""
    try:
        cells = [c for c in nbformat.read(target, as_version=4).cells if c.cell_type == "code"]
    except Exception:  # not written yet, or caught mid-write
        return "starting"
    done = sum(c.get("metadata", {}).get("papermill", {}).get("status") == "completed" for c in cells)
    return f"cell {min(done + 1, len(cells))} of {len(cells)}"


def _heartbeat(target: Path, stop: threading.Event, every_s: float) -> None:
    start = time.perf_counter()
    while not stop.wait(every_s):
        print(f"  {target.name}: {cell_progress(target)}, {time.perf_counter() - start:.0f} s", flush=True)


def run_notebook(notebook: Path, out_dir: Path, parameters: dict | None = None,
                 heartbeat_s: float = 10.0) -> NotebookRun:
    """Execute one notebook with papermill into ``out_dir``, saying every ``heartbeat_s`` which cell runs
    (a training cell can take minutes); never raises for a failing cell."""
    target = out_dir / notebook.name
    start = time.perf_counter()
    status = "ok"
    stop = threading.Event()
    # absolute: papermill changes the working directory to the notebook's while it runs
    threading.Thread(target=_heartbeat, args=(target.resolve(), stop, heartbeat_s), daemon=True).start()
    try:
        papermill.execute_notebook(  # relative paths: papermill records them in the notebook's metadata
            os.path.relpath(notebook), os.path.relpath(target), parameters=parameters or {}, kernel_name="python3",
            cwd=str(notebook.parent), progress_bar=False, store_widget_state=False,
        )
    except papermill.PapermillExecutionError as err:
        status = "FAILED"
        print(f"{notebook.name}: {err.ename}: {err.evalue}", file=sys.stderr)
    finally:
        stop.set()
    if target.exists():
        executed = nbformat.read(target, as_version=4)
        if static_widget_outputs(executed) + clean_saved_outputs(executed):
            nbformat.write(executed, target)
    seconds = time.perf_counter() - start
    headline = headline_of(target) if target.exists() and status == "ok" else ""
    return NotebookRun(notebook.name, status, seconds, headline)


def parameter_names(notebook: str | Path) -> set[str]:
    """The names the cell tagged ``parameters`` assigns."""
    cells = nbformat.read(notebook, as_version=4).cells
    source = "\n".join(c.source for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return {target.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def run_course(out_dir: str | Path = REPO_ROOT / "runs", notebooks: list[Path] | None = None,
               overrides: dict | None = None, heartbeat_s: float = 10.0) -> list[NotebookRun]:
    """Run the notebooks in order (each given the ``overrides`` it declares), print each summary line,
    write ``summary.txt`` / ``summary.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for notebook in notebooks if notebooks is not None else numbered_notebooks():
        print(f"running {notebook.name} ...", flush=True)
        declared = {k: v for k, v in (overrides or {}).items() if k in parameter_names(notebook)}
        runs.append(run_notebook(notebook, out_dir, declared, heartbeat_s))
        print(runs[-1].line(), flush=True)
    (out_dir / "summary.txt").write_text("".join(r.line() + "\n" for r in runs))
    (out_dir / "summary.json").write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")
    return runs


def main(out: str | Path = "runs", only: list[int] | None = None, settings: list[str] | tuple[()] = ()) -> int:
    """``srlib course``: run the notebooks numbered ``only`` (default all) with the ``NAME=VALUE`` settings;
    0 when every notebook ran."""
    overrides = dict(parse_override(text) for text in settings)
    unknown = set(overrides) - set().union(*map(parameter_names, numbered_notebooks()))
    if unknown:
        raise ValueError(f"no notebook declares the parameter(s) {', '.join(sorted(unknown))}")
    notebooks = numbered_notebooks()
    if only:
        numbers = {_number(p): p for p in notebooks}
        missing = sorted(set(only) - set(numbers))
        if missing:
            raise ValueError(f"no notebook numbered {', '.join(map(str, missing))}; there are {sorted(numbers)}")
        notebooks = [numbers[n] for n in sorted(set(only))]
    out = Path(out)
    runs = run_course(out, notebooks, overrides)
    print(f"\nsummary ({out / 'summary.txt'}):")
    for run in runs:
        print(run.line())
    return 0 if runs and all(r.status == "ok" for r in runs) else 1
