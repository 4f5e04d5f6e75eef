# hotscope: `make demo` profiles the bundled example; `make test` runs the
# whole suite on every supported interpreter (tools/pythons.py finds them).

PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test test-quick test-asan bench build clean

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

# The suite under AddressSanitizer, on one interpreter (.venvs/asan).
# Leak checking is off: the interpreter itself keeps memory until exit.
ASAN_LIB = $(shell gcc -print-file-name=libasan.so)
test-asan:
	$(PYTHON) -m venv .venvs/asan
	.venvs/asan/bin/python -m pip install -q --disable-pip-version-check pytest setuptools wheel
	HOTSCOPE_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -Werror" HOTSCOPE_LDFLAGS="-fsanitize=address" .venvs/asan/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
	cd tests && LD_PRELOAD=$(ASAN_LIB) ASAN_OPTIONS=detect_leaks=0 ../.venvs/asan/bin/python -m pytest -q -x $(ARGS)

bench:
	$(PYTHON) bench/bench_trace.py

build:
	$(PYTHON) setup.py build_ext --inplace

clean:
	rm -rf build .venv .venvs *.egg-info hotscope/*.so examples/orders.prof examples/orders.txt examples/orders.collapsed
