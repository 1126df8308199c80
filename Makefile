# Set-up is part of every target: a fresh machine with python3 (pip, venv) needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
comma  := ,
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
# Extras every developer machine and CI get (the lock holds exactly these).
EXTRAS := dev,demo,peers,classical,onnx,serve
# The CPU torch wheel lies in /opt/wheels on the project's machines; pip finds it there by itself.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

.PHONY: demo test lint lock bench-upscale bench-denoise bench-inpaint bench-export clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions (every package pinned), then imagesmith itself without resolving.
$(STAMP): $(PY) pyproject.toml $(LOCK)
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

# Refresh the lock from pyproject.toml + constraints.txt (newest versions that satisfy them).
lock: $(PY)
	$(PY) -m pip install --quiet uv==0.13.10
	$(VENV)/bin/uv pip compile pyproject.toml $(addprefix --extra ,$(subst $(comma), ,$(EXTRAS))) \
		-c constraints.txt $(FIND_LINKS) --upgrade --no-header -o $(LOCK).tmp
	sed -e 's/^torch==\([^+]*\)+cpu/torch==\1/' $(LOCK).tmp > $(LOCK).body
	{ echo '# Every dependency, pinned: `make lock` writes this file; `make demo` / `make test` install it.'; \
	  echo '# Python 3.11, Linux x86_64, CPU torch. Edit pyproject.toml / constraints.txt, not this.'; \
	  cat $(LOCK).body; } > $(LOCK)
	rm -f $(LOCK).tmp $(LOCK).body

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
	$(PY) -m pip install --quiet -c $(LOCK) 'bm3d>=4.0'  # non-commercial: benchmark only
	$(PY) benchmarks/denoise.py --ensemble --data $${IMAGESMITH_DATA:-../shared/datasets}
	$(PY) benchmarks/denoise.py --jpeg --data $${IMAGESMITH_DATA:-../shared/datasets}
	$(PY) benchmarks/denoise_seeds.py --data $${IMAGESMITH_DATA:-../shared/datasets}

bench-export: $(STAMP)
	$(PY) benchmarks/export.py --threads 2

bench-inpaint: $(STAMP)
	$(PY) benchmarks/inpaint.py --data $${IMAGESMITH_DATA:-../shared/datasets}

clean:
	rm -rf $(VENV) build dist src/*.egg-info
