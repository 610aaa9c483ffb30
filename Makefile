# Track2View: `make demo` (the main job) and `make test`. Both set up .venv themselves.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check-python clean train-default

check-python:
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	[ "$$v" = "3.11" ] || { echo "error: Track2View needs Python 3.11 (bpy 5.0.1 is built for it), but '$(PYTHON)' is $${v:-not a working Python}; run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }

$(STAMP): pyproject.toml setup.py | check-python
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[blender,dev]"
	@touch $(STAMP)

# Synthetic shot -> tracks -> Blender scene with an orbiting target camera -> new view in the sequencer;
# writes out/demo.blend (replacing the demo's own earlier one), renders and a side-by-side PNG.
demo: check-python $(STAMP)
	$(BIN)/t2v demo --out out --overwrite

# Retrain the built-in default model (models/default) and the camera baseline on the CPU (~90 min on
# 2 cores; see models/default/README.md).
train-default: check-python $(STAMP)
	sh bench/train_default.sh

lint: $(STAMP)
	$(BIN)/ruff check .

test: check-python $(STAMP) lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build dist *.egg-info
