# hotscope: `make demo` profiles the bundled example; `make test` runs the
# whole suite on every supported interpreter (tools/pythons.py finds them).

PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test test-quick test-asan fuzz bench build clean

DEMO_OUT ?= demo-out

demo:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check .
	mkdir -p $(DEMO_OUT)
	@echo
	@echo "== hotscope trace examples/orders.py  (table on stdout)"
	$(VENV)/bin/hotscope trace --limit 15 examples/orders.py
	@echo
	@echo "== the same profile as an HTML report, a flame graph, pstats, speedscope, pprof"
	$(VENV)/bin/hotscope trace -o $(DEMO_OUT)/trace.html examples/orders.py > /dev/null
	$(VENV)/bin/hotscope trace -o $(DEMO_OUT)/trace.svg examples/orders.py > /dev/null
	$(VENV)/bin/hotscope trace -o $(DEMO_OUT)/trace.prof examples/orders.py > /dev/null
	$(VENV)/bin/hotscope view $(DEMO_OUT)/trace.prof -o $(DEMO_OUT)/trace.speedscope.json
	$(VENV)/bin/hotscope view $(DEMO_OUT)/trace.prof -o $(DEMO_OUT)/trace.pb.gz
	@echo
	@echo "== hotscope record: sampled from outside the process"
	$(VENV)/bin/hotscope record --rate 500 -o $(DEMO_OUT)/record.html -- $(VENV)/bin/python examples/orders.py > /dev/null
	@echo
	@echo "== hotscope lines --hot 2: the two hottest functions, line by line"
	$(VENV)/bin/hotscope lines --hot 2 examples/orders.py | tail -40
	@echo
	@echo "== hotscope mem"
	$(VENV)/bin/hotscope mem -o $(DEMO_OUT)/mem.txt examples/orders.py > /dev/null
	head -30 $(DEMO_OUT)/mem.txt
	@echo
	@echo "Reports written to $(DEMO_OUT)/: open trace.html, trace.svg and record.html in a browser."

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

# Coverage-guided fuzzing of every reader (libFuzzer, ASan with leaks,
# UBSan): one fuzzer per reader for FUZZ_SECONDS each. Needs clang
# (Debian: apt-get install clang); `make test` does not.
FUZZ_SECONDS ?= 60
fuzz:
	$(PYTHON) tools/fuzz.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ_ONLY),--only $(FUZZ_ONLY))

bench:
	$(PYTHON) bench/bench_trace.py

build:
	$(PYTHON) setup.py build_ext --inplace

clean:
	rm -rf build .venv .venvs *.egg-info hotscope/*.so $(DEMO_OUT) examples/orders.prof examples/orders.txt examples/orders.collapsed
