# hotscope: `make demo` runs docs/tutorial.md's worked example end to end;
# `make test` runs the whole suite on every supported interpreter
# (tools/pythons.py finds them).

PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test test-quick test-asan fuzz bench build clean

DEMO_OUT ?= demo-out
# A smaller day than the example's default (20000 requests) keeps the demo,
# build included, within a minute on a 2-core machine.
DEMO_RECORDS ?= 10000
APP = examples/logpipe
HS = $(VENV)/bin/hotscope
# hotscope diff matches functions by name and file, as for one file before
# and after an edit: each version is profiled under the same name here.
WORK = $(DEMO_OUT)/work

demo:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check .
	rm -rf $(DEMO_OUT)
	mkdir -p $(WORK)
	cp $(APP)/logdata.py $(WORK)/
	@echo
	@echo "== 1. hotscope record: sample the slow job from outside, waiting threads too"
	$(HS) record --idle --rate 500 -o $(DEMO_OUT)/record.html -- $(VENV)/bin/python $(APP)/slow.py --records $(DEMO_RECORDS) > /dev/null
	$(HS) view $(DEMO_OUT)/record.html -o $(DEMO_OUT)/record.svg
	@echo
	@echo "== 2. hotscope trace: every call, wall and CPU time, per thread"
	cp $(APP)/slow.py $(WORK)/logpipe.py
	$(HS) trace -o $(DEMO_OUT)/before.json $(WORK)/logpipe.py --records $(DEMO_RECORDS) > $(DEMO_OUT)/before.out
	$(HS) view $(DEMO_OUT)/before.json -s tottime --limit 12 | sed -n '/^Threads/,/^$$/p;/ncalls/,/^$$/p'
	$(HS) view $(DEMO_OUT)/before.json -o $(DEMO_OUT)/before.html
	$(HS) view $(DEMO_OUT)/before.json -o $(DEMO_OUT)/before.svg
	@echo
	@echo "== 3. hotscope lines: the hot function, line by line"
	$(HS) lines --func slow:find_open_session -o $(DEMO_OUT)/lines.txt $(APP)/slow.py --records $(DEMO_RECORDS) > /dev/null
	tail -7 $(DEMO_OUT)/lines.txt
	@echo
	@echo "== 4. hotscope mem: what allocates"
	$(HS) mem -o $(DEMO_OUT)/mem-before.json $(APP)/slow.py --records $(DEMO_RECORDS) > /dev/null
	$(HS) view $(DEMO_OUT)/mem-before.json -o $(DEMO_OUT)/mem-before.txt
	sed -n '/^Allocated over the whole run/,/^$$/p' $(DEMO_OUT)/mem-before.txt
	$(HS) view $(DEMO_OUT)/mem-before.json -o $(DEMO_OUT)/mem-before.svg
	@echo
	@echo "== 5. the fixed job (examples/logpipe/fast.py): the same report?"
	cp $(APP)/fast.py $(WORK)/logpipe.py
	$(HS) trace -o $(DEMO_OUT)/after.json $(WORK)/logpipe.py --records $(DEMO_RECORDS) > $(DEMO_OUT)/after.out
	cmp $(DEMO_OUT)/before.out $(DEMO_OUT)/after.out && echo "same report, byte for byte"
	$(HS) view $(DEMO_OUT)/after.json -o $(DEMO_OUT)/after.html
	@echo
	@echo "== 6. hotscope diff: what changed"
	$(HS) diff --limit 8 $(DEMO_OUT)/before.json $(DEMO_OUT)/after.json
	$(HS) diff $(DEMO_OUT)/before.json $(DEMO_OUT)/after.json -o $(DEMO_OUT)/diff.html
	$(HS) diff $(DEMO_OUT)/before.json $(DEMO_OUT)/after.json -o $(DEMO_OUT)/diff.svg
	@echo
	@echo "== 7. hotscope bench: the gain, on a smaller day"
	PYTHONPATH=$(APP) $(HS) bench -r 5 -s "import slow, fast" "slow.run(3000)" "fast.run(3000)"
	@echo
	@echo "Reports and flame graphs are in $(DEMO_OUT)/ (open the .html and .svg files in a browser):"
	@ls $(DEMO_OUT)

test:
	$(PYTHON) tools/test_all.py

# One interpreter only, fastest feedback: make test-quick PY=/path/to/python3
test-quick:
	HOTSCOPE_PYTHONS="$(or $(PY),$(shell command -v $(PYTHON)))" $(PYTHON) tools/test_all.py -x

# The suite under AddressSanitizer, on one interpreter (.venvs/asan).
# Leak checking is off: the interpreter itself keeps memory until exit.
# allocator_may_return_null: a failed allocation returns NULL (MemoryError),
# as Python expects, instead of aborting.
ASAN_LIB = $(shell gcc -print-file-name=libasan.so)
test-asan:
	$(PYTHON) -m venv .venvs/asan
	.venvs/asan/bin/python -m pip install -q --disable-pip-version-check pytest protobuf jsonschema line_profiler setuptools wheel
	HOTSCOPE_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -Werror" HOTSCOPE_LDFLAGS="-fsanitize=address" .venvs/asan/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
	cd tests && LD_PRELOAD=$(ASAN_LIB) ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 ../.venvs/asan/bin/python -m pytest -q -x $(ARGS)

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
	rm -rf build .venv .venvs *.egg-info hotscope/*.so $(DEMO_OUT)
