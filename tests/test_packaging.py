"""The package works when installed from a wheel, outside the repository: its data files travel inside it."""

import os
import shutil
import subprocess
import sys

import pytest

from srlib.data import load_manifest
from srlib.paths import REPO_ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip wheel`` of the checkout, installed without dependencies into a folder of its own."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy: building in the checkout would leave build/ and egg-info behind
    shutil.copytree(REPO_ROOT / "srlib", source / "srlib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO_ROOT / name, source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "-w", str(root / "dist"), str(source)], check=True, cwd=root)
    wheel = next((root / "dist").glob("srlib-*.whl"))
    subprocess.run(pip + ["install", "--no-deps", "--target", str(root / "site"), str(wheel)], check=True)
    return root


def run_installed(root, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(root / "site")}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_installed_package_has_its_data(installed):
    out = run_installed(installed, (
        "import srlib\n"
        "from srlib.data import load_manifest, read_image, sample_split\n"
        "from srlib.evaluation import niqe\n"
        "print(srlib.__file__)\n"
        "print(len(load_manifest()), len(sample_split()['test']))\n"
        "print(round(niqe(read_image(sample_split()['test'][0])), 4))\n"
    ))
    location, counts, score = out.split("\n")[:3]
    assert location.startswith(str(installed / "site"))
    assert counts == f"{len(load_manifest())} 2"  # every download entry ships
    assert 0 < float(score) < 20


def test_the_installed_command_runs_outside_the_repository(installed):
    out = run_installed(installed, (
        "import torch\n"
        "from srlib.cli import main\n"
        "from srlib.data import imresize, make_lr, modcrop, read_image, sample_split, write_image\n"
        "from srlib.models import build_model\n"
        "hr = modcrop(read_image(sample_split()['test'][0]), 4)[:256, :256]\n"
        "write_image('hr/a.png', hr)\n"
        "write_image('lr/a.png', make_lr(hr, 4))\n"
        "torch.save(build_model('rrdbnet_small').state_dict(), 'g.pth')\n"
        "assert main(['upscale', '-i', 'lr', '-o', 'sr', '--model', 'g.pth']) == 0\n"
        "write_image('bicubic/a.png', imresize(make_lr(hr, 4), 4))  # an untrained network's output is flat\n"
        "assert main(['evaluate', '--sr', 'bicubic', '--hr', 'hr', '--scale', '4']) == 0\n"
    ))
    assert "RRDBNet x4" in out and "niqe" in out.lower() and "mean" in out
