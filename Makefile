# Set-up is part of every target: a fresh machine with python3 (pip, venv) needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench-upscale bench-denoise bench-inpaint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,demo,peers,classical]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/imagesmith demo

test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks tools
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks tools

bench-upscale: $(STAMP)
	$(PY) benchmarks/upscale.py --data $${IMAGESMITH_DATA:-../shared/datasets}

bench-denoise: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[bm3d]'  # non-commercial: benchmark only
	$(PY) benchmarks/denoise.py --ensemble --data $${IMAGESMITH_DATA:-../shared/datasets}
	$(PY) benchmarks/denoise.py --jpeg --data $${IMAGESMITH_DATA:-../shared/datasets}
	$(PY) benchmarks/denoise_seeds.py --data $${IMAGESMITH_DATA:-../shared/datasets}

bench-inpaint: $(STAMP)
	$(PY) benchmarks/inpaint.py --data $${IMAGESMITH_DATA:-../shared/datasets}

clean:
	rm -rf $(VENV) build dist src/*.egg-info
