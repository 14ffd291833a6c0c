# kpt: the two commands for a fresh machine are `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: demo test build deps configure bench clean

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD_DIR).configure.log 2>&1 \
	  || { cat $(BUILD_DIR).configure.log; exit 1; }

# Release build into build/, every program in build/bin/.
build: configure
	@start=$$(date +%s); \
	cmake --build $(BUILD_DIR) -j$(JOBS) && \
	echo "build: $$(( $$(date +%s) - start )) s"

# Installs dependencies, configures, builds, runs every test.
test: deps
	@start=$$(date +%s); \
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > /dev/null && \
	cmake --build $(BUILD_DIR) -j$(JOBS) && \
	built=$$(date +%s) && \
	echo "build: $$(( built - start )) s" && \
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS); rc=$$?; \
	echo "tests: $$(( $$(date +%s) - built )) s"; exit $$rc

# The main job: builds the kpt program only (not the tests), trains MagicPoint for a few minutes,
# evaluates it and draws detections; everything goes to demo-out/ (scripts/demo.sh).
demo: configure
	@start=$$(date +%s); \
	cmake --build $(BUILD_DIR) --target kpt_cli -j$(JOBS) && \
	echo "build: $$(( $$(date +%s) - start )) s" && \
	BUILD_DIR=$(BUILD_DIR) scripts/demo.sh

bench: build
	@$(BUILD_DIR)/bin/kpt-bench-micro --benchmark_counters_tabular=true

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log
