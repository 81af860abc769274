"""A run's log: one JSON record per line in ``log.jsonl`` and the same table as ``log.csv`` (for a
spreadsheet or pandas). Taught in notebook 04."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from ..paths import repo_path


def write_log(run_dir: Path, record: dict) -> None:
    """Append ``record`` to ``log.jsonl`` and ``log.csv``; the CSV is rewritten only when a new column appears
    (validation records carry more columns than loss records)."""
    with open(run_dir / "log.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    csv_path = run_dir / "log.csv"
    columns = []
    if csv_path.exists():
        with open(csv_path) as f:
            columns = f.readline().rstrip("\n").split(",")
    if set(record) <= set(columns):
        with open(csv_path, "a") as f:
            f.write(_csv_row(record, columns))
        return
    _write_csv(run_dir, read_log(run_dir))


def truncate_log(run_dir: Path, iteration: int) -> None:
    """Drop the records after ``iteration`` (a resumed run logs those iterations again)."""
    records = [r for r in read_log(run_dir) if r["iteration"] <= iteration]
    (run_dir / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    _write_csv(run_dir, records)


def _write_csv(run_dir: Path, records: list[dict]) -> None:
    columns = list(dict.fromkeys(k for r in records for k in r))
    (run_dir / "log.csv").write_text(",".join(columns) + "\n" + "".join(_csv_row(r, columns) for r in records))


def _csv_row(record: dict, columns: list[str]) -> str:
    return ",".join("" if record.get(c) is None else str(record[c]) for c in columns) + "\n"


def read_log(run_dir: str | Path) -> list[dict]:
    """The records of a run's ``log.jsonl`` (empty before the first); a relative ``run_dir`` is taken from the
    repository's root, as every run directory of a config is (a notebook runs in ``notebooks/``)."""
    path = repo_path(run_dir) / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def training_minutes(run_dir: str | Path, processes: int = 1) -> float:
    """How long a run of ``processes`` processes trained, from its logged throughput: each record's
    ``samples_per_s`` (over all processes) covers the iterations since the record before it (validation and
    checkpoint writing are not counted)."""
    config = json.loads((repo_path(run_dir) / "config.json").read_text())
    logged = [r for r in read_log(run_dir) if "samples_per_s" in r]
    done = [0] + [r["iteration"] for r in logged]
    batch = config["batch_size"] * processes
    spans = itertools.pairwise(done)  # one per logged record
    return sum((b - a) * batch / r["samples_per_s"] for (a, b), r in zip(spans, logged, strict=True)) / 60
