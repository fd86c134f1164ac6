#!/usr/bin/env bash
# Install dependencies, build with the strict developer flags, and run the
# whole test suite (unit, corpus, schema, fuzz-seed tests) with ctest.
# The shared corpus is read from ../shared/corpus when it is present.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
build=${PEERSCOPE_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEERSCOPE_STRICT=ON \
	-DPEERSCOPE_TESTS=ON "$@"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
