#!/usr/bin/env bash
# The platform benchmark (docs/benchmarks.md, "Platform"): the onboarding service as a real
# process, fsync on, against a real Kafka broker that this script starts on free loopback ports
# and stops by its pid. For each history size it seeds the log through the kernel, starts the
# service, and measures: time to ready and RSS; the same server's gRPC health check (the
# transport's ceiling); SubmitRequest closed-loop throughput and latency; p99 at a fixed 500
# requests/s; RSS afterwards. Prints a Markdown table.
#
#   bench/platform.sh [SIZES...]        (default: 0 100000 1000000)
#   GATEHOUSE_BENCH_SOAK=600 bench/platform.sh     adds, on the last size, a 10-minute load at 500/s (RSS every 30 s)
#   bench/platform.sh --ctest           as the ctest "bench" label runs it: skipped (exit 77) unless
#                                       GATEHOUSE_BENCH=1; then the default sizes, and exit 1 if a
#                                       target of docs/benchmarks.md is missed
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
check=0
if [[ ${1:-} == --ctest ]]; then
  if [[ ${GATEHOUSE_BENCH:-0} != 1 ]]; then
    echo "platform.sh: skipped (opt-in: set GATEHOUSE_BENCH=1)"
    exit 77
  fi
  check=1
  shift
fi
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(0 100000 1000000)
requests=${GATEHOUSE_BENCH_REQUESTS:-20000}
concurrency=${GATEHOUSE_BENCH_CONCURRENCY:-64}

bench_name=platform.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build platform_bench gatehouse-onboarding
bench_setup

rows=()
results=()
for size in "${sizes[@]}"; do
  data="$work/log-$size"
  seed_line="-"
  if [[ $size -gt 0 ]]; then
    seed_line=$("$bin/bench/platform_bench" seed "$data" "$size")
    echo "$seed_line" >&2
  fi
  prefix="bench$size."
  for topic in onboarding sales; do
    deploy/kafka/kafka.sh create-topic --bootstrap "$bootstrap" --topic "${prefix}gatehouse.$topic.events.v1" \
      --partitions 3 >/dev/null
  done
  bench_start_service onboarding "onboarding-$size" GATEHOUSE_DATA_DIR="$data" GATEHOUSE_KAFKA_TOPIC_PREFIX="$prefix" \
    GATEHOUSE_NOTIFIER_PUBLIC_KEY="$notifier_public_key" \
    GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND=1000000 GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST=1000000 \
    GATEHOUSE_RATE_LIMIT_SUBMITS_PER_SECOND=0 GATEHOUSE_VERIFICATION_MAX_UNVERIFIED_PER_DOMAIN=0
  rss_ready=$(rss_mib "$service_pid")
  relay_started=$(now_ms)
  bench_wait_relay "$metrics_port"
  relay_ms=$(($(now_ms) - relay_started))
  target=127.0.0.1:$grpc_port
  "$bin/bench/platform_bench" load --target "$target" --echo --requests 2000 --tag warmup >/dev/null
  echo_line=$("$bin/bench/platform_bench" load --target "$target" --echo --requests "$requests" \
    --concurrency "$concurrency" --tag echo)
  submit_line=$("$bin/bench/platform_bench" load --target "$target" --submit --requests "$requests" \
    --concurrency "$concurrency" --tag "submit$size")
  fixed_line=$("$bin/bench/platform_bench" load --target "$target" --submit --requests 10000 --rate 500 \
    --concurrency 256 --tag "fixed$size")
  rss_after=$(rss_mib "$service_pid")
  echo "size=$size ready=${ready_ms}ms relay_catch_up=${relay_ms}ms rss_ready=${rss_ready}MiB rss_after=${rss_after}MiB" >&2
  echo "  $echo_line" >&2
  echo "  $submit_line" >&2
  echo "  $fixed_line" >&2
  if [[ -n ${GATEHOUSE_BENCH_SOAK:-} && $size == "${sizes[-1]}" ]]; then
    soak_requests=$((GATEHOUSE_BENCH_SOAK * 500))
    "$bin/bench/platform_bench" load --target "$target" --submit --requests "$soak_requests" --rate 500 \
      --concurrency 256 --tag soak >"$work/soak.txt" &
    soak_pid=$!
    while kill -0 "$soak_pid" 2>/dev/null; do
      echo "  soak: $(date +%T) rss=$(rss_mib "$service_pid") MiB" >&2
      sleep 30
    done
    wait "$soak_pid" || true
    echo "  $(cat "$work/soak.txt") rss_end=$(rss_mib "$service_pid") MiB" >&2
  fi
  bench_stop "$service_pid"
  results+=("$size $(field "$submit_line" rate) $(field "$fixed_line" p99) $ready_ms $rss_after")
  rows+=("| $size | $(field "$submit_line" rate) | $(field "$submit_line" p50) / $(field "$submit_line" p99) ms | $(field "$fixed_line" p99) ms | $(field "$echo_line" rate) | ${ready_ms} ms | ${rss_ready} / ${rss_after} MiB |")
done

echo
echo "| prospects in the log | SubmitRequest/s ($concurrency in flight) | p50 / p99 | p99 at 500/s | health check/s (same server) | ready after start | RSS ready / after load |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"

if [[ $check == 1 ]]; then
  # The targets: with the most history, >= 0.8x the throughput with none; >= 2,000/s with none;
  # p99 < 50 ms at 500/s; ready < 5 s; RSS < 300 MiB.
  printf '%s\n' "${results[@]}" | awk '
    NR == 1 { base = $2 }
    { last = $2
      if ($3 >= 50) { print "p99 at 500/s is " $3 " ms with " $1 " prospects (target < 50)"; bad = 1 }
      if ($4 >= 5000) { print "ready after " $4 " ms with " $1 " prospects (target < 5 s)"; bad = 1 }
      if ($5 >= 300) { print "RSS " $5 " MiB with " $1 " prospects (target < 300)"; bad = 1 } }
    END {
      if (base < 2000) { print "SubmitRequest/s with no history is " base " (target >= 2000)"; bad = 1 }
      if (last < 0.8 * base) { print "SubmitRequest/s falls from " base " to " last " (target >= 0.8x)"; bad = 1 }
      exit bad }'
fi
