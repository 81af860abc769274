"""The repository's promises: dependency lists agree, notebooks are papermill-ready, the course runs."""

import ast
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager

from srlib.notebook.course import headline_of, numbered_notebooks, run_course
from srlib.notebook.widgets import WIDGET_VIEW
from srlib.paths import REPO_ROOT

ROOT = REPO_ROOT


def pyproject():
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_environment_yml_equals_pyproject():
    project = pyproject()["project"]
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip  # the CPU torch it promises
    expected = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert sorted(p for p in pip if p != "-e ." and not p.startswith("--")) == sorted(expected)


def test_no_torchvision_anywhere():
    project = pyproject()["project"]
    names = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    banned = {"torchvision", "piq", "lpips", "pyiqa", "basicsr", "iqa-torch"}
    assert not {re.split(r"[<>=!\[ ]", n)[0].lower() for n in names} & banned


def test_notebooks_are_numbered_and_papermill_ready():
    notebooks = numbered_notebooks()
    assert notebooks, "no notebooks found"
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        for node in ast.parse(tagged[0].source).body:
            assert isinstance(node, ast.Assign), f"{path.name}: parameters cell holds only assignments"
            ast.literal_eval(node.value)  # plain literals only
        assert nb.cells[0].cell_type == "markdown"
        assert any("headline" in c.metadata.get("tags", []) for c in nb.cells), f"{path.name}: no headline cell"
        assert "application/vnd.jupyter.widget-state+json" not in path.read_text()


def test_committed_notebooks_open_as_saved_with_pictures_for_their_widgets():
    """Opened in JupyterLab without running, a notebook shows its widgets' pictures (a widget view would
    say "model not found") and is not marked modified (JupyterLab rewrites a kernelspec it does not match)."""
    installed = KernelSpecManager().get_kernel_spec("python3").display_name
    for path in numbered_notebooks():
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["display_name"] == installed, path.name
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                assert WIDGET_VIEW not in output.get("data", {}), f"{path.name} cell {index}: a widget view"


@pytest.mark.slow
def test_course_runner_executes_and_summarises(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell("n = 3")
    params.metadata["tags"] = ["parameters"]
    headline = nbformat.v4.new_code_cell("print('noise')\nprint(f'headline: {n * 2} units')")
    headline.metadata["tags"] = ["headline"]
    slider = nbformat.v4.new_code_cell("import numpy as np\nfrom srlib.notebook import BeforeAfter\n"
                                       "BeforeAfter(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8, 3), np.uint8))")
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), params, headline, slider]
    good = tmp_path / "nbs" / "01_good.ipynb"
    good.parent.mkdir()
    nbformat.write(nb, good)
    nb.cells[2] = nbformat.v4.new_code_cell("raise RuntimeError('boom')")
    nbformat.write(nb, tmp_path / "nbs" / "02_bad.ipynb")
    assert [p.name for p in numbered_notebooks(tmp_path / "nbs")] == ["01_good.ipynb", "02_bad.ipynb"]
    runs = run_course(tmp_path / "runs", numbered_notebooks(tmp_path / "nbs"))
    assert [(r.status, r.headline) for r in runs] == [("ok", "headline: 6 units"), ("FAILED", "")]
    summary = (tmp_path / "runs" / "summary.txt").read_text().splitlines()
    assert summary[0].startswith("ok") and "headline: 6 units" in summary[0] and summary[1].startswith("FAILED")
    assert headline_of(tmp_path / "runs" / "01_good.ipynb") == "headline: 6 units"
    saved = nbformat.read(tmp_path / "runs" / "01_good.ipynb", as_version=4).cells[3].outputs
    assert set(saved[0].data) == {"image/png", "text/plain"}  # the widget's picture, not its dead view
    # an override reaches the notebooks that declare it, and only those
    runs = run_course(tmp_path / "again", [good], overrides={"n": 5, "ma_model_path": "x.mat"})
    assert runs[0].headline == "headline: 10 units"


def test_the_course_runner_says_which_cell_runs(tmp_path, capsys, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("import time; time.sleep(4)"),
                nbformat.v4.new_code_cell("y = 2")]
    (tmp_path / "nbs").mkdir()
    nbformat.write(nb, tmp_path / "nbs" / "01_slow.ipynb")
    # relative paths, as `srlib course --out runs` gives them: papermill runs in the notebook's folder meanwhile
    monkeypatch.chdir(tmp_path)
    run_course(Path("runs"), [Path("nbs/01_slow.ipynb")], heartbeat_s=0.5)
    assert "01_slow.ipynb: cell 2 of 3" in capsys.readouterr().out


def test_committed_notebooks_show_no_machine_paths_and_no_stderr():
    machine_path = re.compile(r"(/[\w.-]+)+/(srlib|notebooks|runs|data)/")
    for notebook in numbered_notebooks():
        nb = nbformat.read(notebook, as_version=4)
        assert not machine_path.search(str(nb.metadata)), f"{notebook.name}: metadata holds a machine path"
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                where = f"{notebook.name} cell {index}"
                assert output.get("name") != "stderr", f"{where} wrote to stderr: {output.get('text', '')[:200]}"
                text = output.get("text", "") + str({k: v for k, v in output.get("data", {}).items()
                                                     if not k.startswith("image/")})
                assert not machine_path.search(text), f"{where} shows a machine path"


def test_committed_notebooks_save_no_progress_bars_no_machine_and_no_jpeg():
    """Saved outputs are the course's results: not a progress bar's instant, not the CPU that ran them,
    and no lossy picture over compared detail."""
    machine = re.compile(r"CPU capability|AVX|bf16 \(|this (2-core )?(CPU|machine)|[0-9]+-core", re.I)
    for notebook in numbered_notebooks():
        for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
            where = f"{notebook.name} cell {index}"
            if cell.cell_type == "markdown":
                assert not machine.search(cell.source), f"{where} describes the machine: {machine.search(cell.source)}"
            for output in cell.get("outputs", []):
                text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                assert not re.search(r"\d+%\|.*\|\s*\d+/\d+", text), f"{where} saved a progress bar"
                assert not machine.search(text), f"{where} describes the machine"
                assert "image/jpeg" not in output.get("data", {}), f"{where} saved a JPEG"


def test_saved_outputs_lose_progress_bars_and_machine_lines_but_keep_results():
    from srlib.notebook.course import clean_saved_outputs

    cell = nbformat.v4.new_code_cell("train()", outputs=[
        nbformat.v4.new_output("stream", text="gan stage on cpu, fp32 (asked: fp32): CPU capability AVX512, x\n"
                                              "gan stage:  6%|▌   | 6/100 [00:02<00:38]\rgan stage: 14%|█ | 14/100\n"
                                              "PSNR-Y 30.1 dB\n"),
        nbformat.v4.new_output("stream", text="gan stage: 100%|██████| 100/100 [00:40<00:00]\n")])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert clean_saved_outputs(notebook) == 2
    assert [o.text for o in cell.outputs] == ["gan stage on cpu, fp32 (asked: fp32)\nPSNR-Y 30.1 dB\n"]
    assert clean_saved_outputs(notebook) == 0


def test_notebooks_share_the_setup_call():
    for notebook in numbered_notebooks():
        source = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
        assert "setup()" in source and "%config" not in source, notebook.name


def test_every_chapter_module_says_which_notebook_teaches_it():
    for package in ("data", "models", "losses", "training", "evaluation", "inference"):
        for module in sorted((REPO_ROOT / "srlib" / package).glob("*.py")):
            docstring = ast.get_docstring(ast.parse(module.read_text())) or ""
            assert re.search(r"[Tt]aught\s+in\s+notebooks?\s+\d\d", docstring), f"{package}/{module.name}"


def test_a_missing_committed_model_is_named_not_replaced_by_a_quick_run(tmp_path):
    from srlib.notebook import ensure_course_runs

    with pytest.raises(FileNotFoundError, match="make weights"):
        ensure_course_runs(str(tmp_path / "course-psnr"), "weights/course-gan")
    assert not (tmp_path / "course-psnr").exists()


# srlib's import layers (srlib/__init__.py): a module may import its own layer and those before it
LAYERS = [{"paths", "atomic", "hardware", "safe_load", "__version__"}, {"data"}, {"evaluation"}, {"models"}, {"losses"},
          {"training"}, {"inference"}, {"notebook"}, {"cli", "__main__"}]


def _layer(module: str) -> int:
    part = module.split(".")[1]
    return next(i for i, names in enumerate(LAYERS) if part in names)


def _srlib_imports(path: Path) -> list[tuple[str, int]]:
    """(imported srlib module, line) of every import in ``path``, at the top or inside a function."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts if path.name == "__init__.py" else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            names = [target + "." + alias.name for alias in node.names] if target == "srlib" else [target]
            found += [(name, node.lineno) for name in names]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
            found += [(name, node.lineno) for name in names if name and name.startswith("srlib.")]
    return found


def test_imports_only_point_down_the_layers():
    upward = []
    for path in sorted((ROOT / "srlib").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module in ("srlib.__init__",):  # the package's front door re-exports load_pretrained, lazily
            continue
        for target, line in _srlib_imports(path):
            if target.count(".") and _layer(target) > _layer(module):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not upward, upward
