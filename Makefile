# The two commands of the README: `make run` and `make test`. Everything else is a helper.
BUILD ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: run test build deps sanitize fuzz bench format clean

deps:
	@./deploy/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/troupe $(ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j 1

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTROUPE_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizer/lsan.supp:print_suppressions=0 \
	  ctest --output-on-failure -j 1

# libFuzzer targets (clang), each run FUZZ_SECONDS on its seed corpus (fuzz/README.md).
fuzz:
	@./deploy/install-deps.sh --fuzz
	CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_FLAGS="-O1 -g" -DTROUPE_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Benchmarks build in Release; run them by hand on an idle machine (see bench/README.md).
bench:
	@./deploy/install-deps.sh --bench
	cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DTROUPE_BENCH=ON
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	./bench/run-all.sh $(BENCH_BUILD)

format:
	find domain runtime actors tests bench fuzz -name '*.?pp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
