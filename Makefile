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

# Chats with MODEL=... when given, else with Gemma 4 E2B-it from the model cache
# (~/.cache/pocket, or $POCKET_CACHE) when it is there, else — saying so loudly — with the tiny
# random-weight demo model written once into the build folder by make-test-model.
CACHE_DIR := $(if $(POCKET_CACHE),$(POCKET_CACHE),$(HOME)/.cache/pocket)
DEMO_MODEL := $(BUILD)/models/tiny-demo-Q8_0.gguf
MODEL ?=
run: build
	@model="$(MODEL)"; \
	if [ -z "$$model" ]; then model=$$(ls "$(CACHE_DIR)"/*[Gg]emma-4-[Ee]2[Bb]-it*.gguf 2>/dev/null | grep -v mmproj | head -n 1); fi; \
	if [ -z "$$model" ]; then \
	  echo "Gemma 4 E2B-it is not in $(CACHE_DIR) (pocket cannot download models yet; put a GGUF there"; \
	  echo "or run: make run MODEL=path/to/model.gguf). Using the tiny demo model instead:"; \
	  echo "its weights are RANDOM, so its answers are noise — it only shows that the whole path runs."; \
	  if [ ! -e "$(DEMO_MODEL)" ]; then mkdir -p $(BUILD)/models && \
	    $(BUILD)/bin/pocket make-test-model --shape tiny --type Q8_0 --out "$(DEMO_MODEL)"; fi; \
	  model="$(DEMO_MODEL)"; extra="-n 32"; \
	fi; \
	$(BUILD)/bin/pocket chat -m "$$model" $$extra

format:
	@find src tests include -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
