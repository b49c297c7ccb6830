#!/usr/bin/env bash
# Runs the kernel benchmarks, including the relay against a real Kafka broker that this script
# starts on free loopback ports and stops by its pid. Prints the table for docs/benchmarks.md.
#   bench/run.sh [kernel_bench options...]
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target kernel_bench >/dev/null
data=$(mktemp -d)
trap 'deploy/kafka/kafka.sh stop --data "$data" >/dev/null 2>&1; rm -rf "$data"' EXIT
bootstrap=$(deploy/kafka/kafka.sh start --data "$data" 2>/dev/null | tail -1)
build/release/bench/kernel_bench --kafka "$bootstrap" "$@"
