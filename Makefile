# pocket — the two commands of the README quick start, plus helpers.
#   make run    set up, build, and run pocket's main job
#   make test   set up, build, and run the whole test suite
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test run clean format

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Until the chat app lands this shows the CLI and inspects a model: the golden E2B-style test
# model when ../shared/golden is present, else the first argument MODEL=... you give.
GOLDEN_DIR ?= $(if $(POCKET_GOLDEN_DIR),$(POCKET_GOLDEN_DIR),../shared/golden)
MODEL ?= $(GOLDEN_DIR)/text/e_style/model.gguf
run: build
	@$(BUILD)/bin/pocket --help
	@echo
	@if [ -e "$(MODEL)" ]; then $(BUILD)/bin/pocket inspect "$(MODEL)"; \
	 else echo "no model at $(MODEL); try: make run MODEL=path/to/model.gguf"; fi

format:
	@find src tests include -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
