# `make run` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The product and the Twilio simulator (its own distribution, ./twilio_sim): a change to either
# pyproject.toml reinstalls both.
PYPROJECTS := pyproject.toml twilio_sim/pyproject.toml
STAMP := $(VENV)/.installed-$(shell cat $(PYPROJECTS) | cksum | cut -d' ' -f1)
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test fuzz bench lint translations clean

$(STAMP): $(PYPROJECTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e './twilio_sim[test]' -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d registry/translations

run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(BIN)/python scripts/devserver.py

test: $(STAMP) translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The property test of tests/test_fuzz.py at length: random input to every form and endpoint,
# FUZZ_EXAMPLES per route (`make test` runs 6 with a fixed seed), a new seed each run; on
# PostgreSQL too when TEST_DATABASE_URL is set.
FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP) translations
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_RANDOM=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py $(PYTEST_ARGS)

# Seven benchmarks on PostgreSQL (BENCH_DATABASE_URL, default the local server): masked numbers,
# callback dispatch, call log, bindings, webhooks, the merchant import, one and two web instances.
# BENCH_ARGS=--quick runs each at a small scale.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench dispatch $(BENCH_ARGS)
	$(BIN)/python -m bench calllog $(BENCH_ARGS)
	$(BIN)/python -m bench bindings $(BENCH_ARGS)
	$(BIN)/python -m bench webhooks $(BENCH_ARGS)
	$(BIN)/python -m bench imports $(BENCH_ARGS)
	$(BIN)/python -m bench multihost $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
