# hotscope: `make demo` profiles the bundled example; `make test` runs the
# whole suite on every supported interpreter (tools/pythons.py finds them).

PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test test-quick bench build clean

demo:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check .
	@echo
	@echo "== hotscope trace examples/orders.py  (table on stdout)"
	$(VENV)/bin/hotscope trace --limit 15 examples/orders.py
	@echo
	@echo "== hotscope trace -o examples/orders.prof / .txt / .collapsed"
	$(VENV)/bin/hotscope trace -o examples/orders.prof examples/orders.py > /dev/null
	$(VENV)/bin/hotscope trace -o examples/orders.txt examples/orders.py > /dev/null
	$(VENV)/bin/hotscope trace -o examples/orders.collapsed examples/orders.py > /dev/null
	$(VENV)/bin/python -c "import pstats; pstats.Stats('examples/orders.prof').sort_stats('tottime').print_stats(5)"

test:
	$(PYTHON) tools/test_all.py

# One interpreter only, fastest feedback: make test-quick PY=/path/to/python3
test-quick:
	HOTSCOPE_PYTHONS="$(or $(PY),$(shell command -v $(PYTHON)))" $(PYTHON) tools/test_all.py -x

bench:
	$(PYTHON) bench/bench_trace.py

build:
	$(PYTHON) setup.py build_ext --inplace

clean:
	rm -rf build .venv .venvs *.egg-info hotscope/*.so examples/orders.prof examples/orders.txt examples/orders.collapsed
