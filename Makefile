# Track2View: `make demo` (the main job) and `make test`. Both set up .venv themselves.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-blender-versions lint check-python clean train-default

check-python:
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	[ "$$v" = "3.11" ] || { echo "error: Track2View needs Python 3.11 (bpy 5.0.1 is built for it), but '$(PYTHON)' is $${v:-not a working Python}; run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }

$(STAMP): pyproject.toml setup.py | check-python
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[blender,dev,tools]"
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

# The bpy-driven tests again on the older Blender versions the extension supports (4.2 LTS, 4.5 LTS):
# a small venv per version holds only that bpy and reaches everything else through .venv.
BPY_VERSIONS ?= 4.2.23 4.5.15
test-blender-versions: $(STAMP)
	@set -e; main=$$($(BIN)/python -c 'import site; print(site.getsitepackages()[0])'); \
	for v in $(BPY_VERSIONS); do \
	  venv=.venv-bpy/$$v; \
	  if [ ! -f $$venv/.installed ]; then \
	    $(PYTHON) -m venv $$venv; \
	    $$venv/bin/python -m pip install --quiet --no-deps bpy==$$v; \
	    echo "import site; site.addsitedir('$$main')" > $$($$venv/bin/python -c 'import site; print(site.getsitepackages()[0])')/zz_track2view_main.pth; \
	    touch $$venv/.installed; \
	  fi; \
	  echo "bpy $$v:"; $$venv/bin/python -m pytest -q -m bpy -p no:cacheprovider; \
	done

test: check-python $(STAMP) lint
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-blender-versions

clean:
	rm -rf $(VENV) .venv-bpy build dist *.egg-info
