#!/usr/bin/env bash
# Runs the kernel's in-process tests under ThreadSanitizer (the `tsan` preset): the event store's
# group commit, read models, the decider runtime and its aggregate cache, relay and inbox (with
# their retry, parking and dead-letter paths) on librdkafka's mock cluster. Any report fails the run
# (halt_on_error=1); tsan.supp may only hold races inside uninstrumented system libraries, each
# with its reason. Not the service-runtime process tests: gRPC, abseil and OpenSSL from Debian are
# uninstrumented and their own synchronisation floods TSan with reports no suppression list short
# of "all of gRPC" silences (docs/building.md). Builds just the kernel's test binaries (about 10
# minutes on two cores from cold).
#
#   scripts/tsan.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."

cmake --preset tsan >/dev/null
cmake --build --preset tsan --target gatehouse_tsan_c11_threads kernel_unit_tests kernel_kafka_tests \
  kernel_crash_worker
# The kernel's tests without the real broker (label kafka) — the same relay and inbox tests run on
# the mock cluster (label mock) — and without the crash tests, which SIGKILL workers on purpose.
ctest --preset tsan -R '^kernel\.' -E '^kernel\.runtime\.' -L 'unit|mock' --timeout 600 "$@"
