# pocket — the two commands of the README quick start, plus helpers.
#   make run    set up, build, and run pocket's main job
#   make test   set up, build, and run the whole test suite
#   make test-arm  cross-build the kernel tests for 64-bit ARM and run them under QEMU
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-arm run clean format

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Tests write their scratch files (tiny models, outputs) under the build folder, not the
# machine's /tmp, and remove them as each test process exits.
test: build
	@mkdir -p $(BUILD)/test-tmp
	TMPDIR="$(abspath $(BUILD))/test-tmp" ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The ARM kernel tables (neon, dotprod) against the scalar reference, under QEMU user emulation.
test-arm:
	@scripts/install-deps --arm
	@scripts/check-arm $(BUILD)-arm

# Chats with MODEL=... when given, else with Gemma 4 E2B-it (Q4_K_M) from the model cache
# (~/.cache/pocket or $POCKET_CACHE), downloading it with `pocket pull` when possible; when it
# can be neither found nor downloaded it says so loudly and uses the tiny random-weight demo
# model (written once into the build folder by make-test-model) so the whole path still runs.
DEFAULT_MODEL := ggml-org/gemma-4-E2B-it-GGUF:Q4_K_M
DEMO_MODEL := $(BUILD)/models/tiny-demo-Q8_0.gguf
MODEL ?=
run: build
	@model="$(MODEL)"; \
	if [ -z "$$model" ]; then \
	  if $(BUILD)/bin/pocket pull $(DEFAULT_MODEL) >/dev/null; then model="$(DEFAULT_MODEL)"; fi; \
	fi; \
	if [ -z "$$model" ]; then \
	  echo "Gemma 4 E2B-it is not in the model cache and could not be downloaded (see the error above)."; \
	  echo "Using the tiny demo model instead: its weights are RANDOM, so its answers are noise —"; \
	  echo "it only shows that the whole path runs. Try: make run MODEL=path/to/model.gguf"; \
	  if [ ! -e "$(DEMO_MODEL)" ]; then mkdir -p $(BUILD)/models && \
	    $(BUILD)/bin/pocket make-test-model --shape tiny --type Q8_0 --out "$(DEMO_MODEL)"; fi; \
	  model="$(DEMO_MODEL)"; extra="-n 32"; \
	fi; \
	$(BUILD)/bin/pocket chat -m "$$model" $$extra

format:
	@find src tests include -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
