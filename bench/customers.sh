#!/usr/bin/env bash
# Sign-in and the replication lookups as history grows (docs/benchmarks.md, "Sign-in and
# replication lookups"): the customers service as a real process, fsync on, against a real Kafka
# broker that this script starts on free loopback ports and stops by its pid. For each size it
# seeds the customers log through the service's own code (customers_bench seed: CRM-mode approvals,
# the admin's password set), starts gatehouse-customers and measures: time to ready and RSS;
# SignIn from outside (argon2id-bound, random seeded users and the right password; one call at a
# time, then closed loop with as many in flight as cores), each next to the bare argon2id; RSS
# afterwards; then, the service stopped, the lookups replication and sign-in make, timed in process
# on the same store (customers_bench lookups). Prints a Markdown table: one column per size.
#
#   bench/customers.sh [PARTNERS...]         (default: 1 100000; each partner is an Organization
#                                             and its admin's Person, ten events; a size may be
#                                             repeated, e.g. 1 100000 1 100000, to see the spread)
#   GATEHOUSE_BENCH_SIGN_INS=200             SignIn calls per size and load (100 one at a time,
#                                            200 with GATEHOUSE_BENCH_SIGN_IN_CONCURRENCY in flight)
#   GATEHOUSE_BENCH_SIGN_IN_CONCURRENCY=2    (argon2id takes a core per call: 2 cores, 2 in flight)
#   GATEHOUSE_BENCH_LOOKUPS=20000            in-process samples per lookup kind
#   GATEHOUSE_BENCH_SKIP_BUILD=1             use the binaries already in build/release
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1 100000)
sign_ins=${GATEHOUSE_BENCH_SIGN_INS:-200}
concurrency=${GATEHOUSE_BENCH_SIGN_IN_CONCURRENCY:-2}
samples=${GATEHOUSE_BENCH_LOOKUPS:-20000}

bench_name=customers.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build customers_bench gatehouse-customers
bench_setup

declare -A cell
labels=()
row() {  # row KEY LABEL VALUE (for the current column)
  [[ -n ${cell[$1.label]:-} ]] || { labels+=("$1"); cell[$1.label]=$2; }
  cell[$1.$column]=$3
}

for column in "${!sizes[@]}"; do
  size=${sizes[$column]}
  data="$work/log-$column"
  seed_line=$("$bin/bench/customers_bench" seed "$data" "$size")
  echo "$seed_line" >&2
  prefix="cbench$column."
  for topic in customers.events onboarding.events sales.events customers.dead-letters; do
    deploy/kafka/kafka.sh create-topic --bootstrap "$bootstrap" --topic "${prefix}gatehouse.$topic.v1" \
      --partitions 3 >"$work/topic.txt" 2>&1 || { cat "$work/topic.txt" >&2; exit 1; }
  done
  bench_start_service customers "customers-$column" GATEHOUSE_DATA_DIR="$data" GATEHOUSE_KAFKA_TOPIC_PREFIX="$prefix" \
    GATEHOUSE_NOTIFIER_PUBLIC_KEY="$notifier_public_key" \
    GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND=1000000 GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST=1000000
  rss_ready=$(rss_mib "$service_pid")
  relay_started=$(now_ms)
  bench_wait_relay "$metrics_port"
  relay_ms=$(($(now_ms) - relay_started))
  target=127.0.0.1:$grpc_port
  "$bin/bench/customers_bench" sign-in --target "$target" --partners "$size" --requests 10 >/dev/null
  # Each load with its baseline in the same run: the bare argon2id verification, in a process of
  # its own on the same cores, the same number of calls and threads.
  single_base=$("$bin/bench/customers_bench" argon2 --requests "$((sign_ins / 2))" --concurrency 1)
  single_line=$("$bin/bench/customers_bench" sign-in --target "$target" --partners "$size" \
    --requests "$((sign_ins / 2))" --concurrency 1)
  sign_in_base=$("$bin/bench/customers_bench" argon2 --requests "$sign_ins" --concurrency "$concurrency")
  sign_in_line=$("$bin/bench/customers_bench" sign-in --target "$target" --partners "$size" \
    --requests "$sign_ins" --concurrency "$concurrency")
  rss_after=$(rss_mib "$service_pid")
  bench_stop "$service_pid"
  lookup_lines=$("$bin/bench/customers_bench" lookups "$data" "$size" --samples "$samples")
  data_mib=$(du -sm "$data" | cut -f1)
  rm -rf "$data"
  echo "size=$size ready=${ready_ms}ms relay_catch_up=${relay_ms}ms rss_ready=${rss_ready}MiB rss_after=${rss_after}MiB" >&2
  printf '  %s\n' "$single_base" "$single_line" "$sign_in_base" "$sign_in_line" >&2
  sed 's/^/  /' <<<"$lookup_lines" >&2

  row customers "customers in the log (Organizations + Persons)" "$(thousands "$((2 * size))")"
  row events "events in the log" "$(thousands "$(sed -n 's/.*log head \([0-9]*\).*/\1/p' <<<"$seed_line")")"
  row disk "store on disk" "${data_mib} MiB"
  row ready "ready after start" "${ready_ms} ms"
  row rss "RSS ready / after the sign-ins" "${rss_ready} / ${rss_after} MiB"
  row single "SignIn p50 / p99, one at a time ($((sign_ins / 2)) calls; bare argon2id, same run)" \
    "$(field "$single_line" p50) / $(field "$single_line" p99) ms ($(field "$single_base" p50) / $(field "$single_base" p99) ms)"
  row loaded "SignIn/s, p50 / p99 with $concurrency in flight ($sign_ins calls; bare argon2id on $concurrency threads)" \
    "$(field "$sign_in_line" rate)/s, $(field "$sign_in_line" p50) / $(field "$sign_in_line" p99) ms ($(field "$sign_in_base" rate)/s, $(field "$sign_in_base" p50) / $(field "$sign_in_base" p99) ms)"
  while read -r line; do
    kind=$(sed -n 's/^lookup=\([a-z_]*\).*/\1/p' <<<"$line")
    case $kind in
      active_user_by_email) label="Active user by email (sign-in)" ;;
      unknown_email) label="unknown email (sign-in, a miss)" ;;
      person_email_taken) label="Person email taken (HQ create, add user; index only)" ;;
      organization_by_crm_account) label="Organization by CRM account (replication)" ;;
      customer_by_crm_contact) label="customer by CRM contact (replication)" ;;
      customer_of_request) label="CRM customers of a request (CRM-mode approval)" ;;
      *) label=$kind ;;
    esac
    row "lookup_$kind" "lookup: $label" \
      "$(field "$line" index_p50) ($(field "$line" index_p99)) / $(field "$line" cold_p50) ($(field "$line" cold_p99)) / $(field "$line" warm_p50) ($(field "$line" warm_p99))"
  done <<<"$lookup_lines"
done

echo
header="| partners in the log |"
rule="|---|"
for size in "${sizes[@]}"; do
  header+=" $(thousands "$size") |"
  rule+="---:|"
done
echo "$header"
echo "$rule"
for key in "${labels[@]}"; do
  line="| ${cell[$key.label]} |"
  for column in "${!sizes[@]}"; do line+=" ${cell[$key.$column]:-} |"; done
  echo "$line"
done
echo
echo "Lookups: µs, p50 (p99) of $(thousands "$samples") random seeded keys each, in process on the same store:" \
  "the index entry alone / through CustomersApp with the customer's state read from its stream (not in the" \
  "aggregate cache) / the same call again, the state cached."
