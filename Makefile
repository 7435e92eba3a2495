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

# Until the chat app lands this shows the CLI and inspects a model: MODEL=... when given, else
# the tiny random-weight demo model (written once into the build folder by make-test-model).
DEMO_MODEL := $(BUILD)/models/tiny-demo-Q8_0.gguf
MODEL ?=
run: build
	@$(BUILD)/bin/pocket --help
	@echo
	@if [ -n "$(MODEL)" ]; then $(BUILD)/bin/pocket inspect "$(MODEL)"; else \
	  if [ ! -e "$(DEMO_MODEL)" ]; then mkdir -p $(BUILD)/models && \
	    $(BUILD)/bin/pocket make-test-model --shape tiny --type Q8_0 --out "$(DEMO_MODEL)"; fi; \
	  echo "(no MODEL=... given: using the tiny demo model with RANDOM weights)"; \
	  $(BUILD)/bin/pocket inspect "$(DEMO_MODEL)"; fi

format:
	@find src tests include -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
