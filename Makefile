# Two commands for a newcomer: `make run` and `make test`. Everything else is a detail of these.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kb-installed
# The CPU build of torch is installed first and pinned: a bare `torch` would pull gigabytes of CUDA.
TORCH  := torch==2.13.0
# The versions CI tested, every package pinned (`make lock` writes it): a fresh clone gets the same.
CONSTRAINTS := constraints.txt
# Where `make lock` resolves pyproject.toml's ranges afresh (a scratch venv, never .venv).
LOCK_VENV ?= /tmp/kb-lock-venv

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup lock browser clean

## run: set up, index the starter corpus and serve the web UI on http://127.0.0.1:5000
run: setup
	$(BIN)/kb validate
	$(BIN)/kb index
	$(BIN)/kb serve --host $${KB_HOST:-127.0.0.1} --port $${KB_PORT:-5000}

## test: set up (if needed) and run the whole test suite, browser tests included
test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) $(TORCH)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	$(BIN)/python -m pip check
	touch $(STAMP)

## lock: resolve pyproject.toml's ranges afresh (torch first) and pin the result in constraints.txt; then `make test`
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet $(TORCH)
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[test]'
	$(LOCK_VENV)/bin/python -m pip check
	{ echo "# The versions CI tested: \`make setup\` installs with \`pip install -c $(CONSTRAINTS)\`."; \
	  echo "# Written by \`make lock\` (pip freeze --exclude-editable of a fresh resolve of pyproject.toml,"; \
	  echo "# $(TORCH) installed first); regenerate with it, then run \`make test\`. Do not edit by hand."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)

# Debian's Chromium drives the browser tests (never `playwright install`: the machine is offline).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else \
	    echo "note: /usr/bin/chromium is missing; install Debian's chromium to run the browser tests"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .kb
