#!/usr/bin/env bash
# The README's test command (and what CI runs): installs what is missing, fetches the Kafka
# jars, builds the release preset warning-free, checks formatting, lints the protos, runs
# clang-tidy, fuzzes the decoders and validators for a short while, and runs every test — unit,
# crash, mock-cluster and real-broker (the real broker is started and stopped by ctest's
# kafka_broker fixture, on free loopback ports). Prints ctest's summary; exits non-zero on failure.
#
#   scripts/test.sh [--preset release|debug|asan] [ctest arguments...]
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."

preset=release
if [[ ${1:-} == --preset ]]; then
  preset=$2
  shift 2
fi

scripts/install-deps.sh
deploy/kafka/kafka.sh fetch >/dev/null

cmake --preset "$preset"
cmake --build --preset "$preset"

scripts/check-format.sh
scripts/lint-proto.sh
scripts/tidy.sh "$preset"
scripts/fuzz.sh 15

# The real broker's fixture and the tests are run one at a time: crash tests kill processes and
# time their restarts, and the machine has two cores.
ctest --preset "$preset" --timeout 600 "$@"
