# The two commands: `make demo` runs the product, `make test` runs the whole test suite.
# Both create .venv and install the locked dependencies on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock | cksum | cut -d' ' -f1)
# Tests get their own data folder (SQLite file, broker queue, cache) so a running demo
# worker never picks up a test's task.
TEST_DATA_DIR ?= $(CURDIR)/data/test

.PHONY: demo test lint lock bench clean

$(STAMP): requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py rundemo

test: $(STAMP)
	MOLA_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-pin every dependency from requirements*.in in a throwaway environment.
lock:
	rm -rf /tmp/mola-lock && $(PYTHON) -m venv /tmp/mola-lock
	/tmp/mola-lock/bin/pip install --quiet -r requirements.in
	/tmp/mola-lock/bin/pip freeze --all --exclude pip --exclude setuptools --exclude wheel > requirements.lock
	/tmp/mola-lock/bin/pip install --quiet -r requirements.in -r requirements-dev.in
	/tmp/mola-lock/bin/pip freeze --all --exclude pip --exclude setuptools --exclude wheel > requirements-dev.lock

bench: $(STAMP)
	for script in bench/*.py; do case $$script in */_*|*/synthetic.py) continue;; esac; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf data/test .pytest_cache
