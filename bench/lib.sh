# What the bench scripts share (sourced, not run): building their targets, a real Kafka broker on
# free loopback ports, services started with their ports read from their "ready" line, everything
# stopped by its pid on exit, and the small readings the tables are made of.
#
# A script sets `bench_name` (for messages), sources this file from the repository root, and
# calls bench_setup once; then `work` is its temporary directory, `bootstrap` the broker's address
# and `kafka_pid` its pid. Whatever was started with bench_track'ed pids is stopped on exit.

bin=build/release
work=
bootstrap=
kafka_pid=
notifier_public_key=
notifier_secret_key=
bench_pids=()

# bench_build TARGET...: builds what the script runs, unless GATEHOUSE_BENCH_SKIP_BUILD=1.
bench_build() {
  [[ ${GATEHOUSE_BENCH_SKIP_BUILD:-0} == 1 ]] && return 0
  cmake --preset release >/dev/null
  cmake --build --preset release --target "$@" gatehouse-keygen >/dev/null
}

# bench_setup: the temporary directory, the exit trap, the broker, and a notifier key pair in
# notifier_public_key (the services that seal tokens need it) and notifier_secret_key (the
# notifier alone). Each service is given only the settings it has: an unknown one is warned about.
bench_setup() {
  work=$(mktemp -d)
  trap bench_cleanup EXIT
  bootstrap=$(deploy/kafka/kafka.sh start --data "$work/kafka" 2>/dev/null | tail -1)
  kafka_pid=$(cat "$work/kafka/kafka.pid")
  local keys
  keys=$("$bin/tools/keygen/gatehouse-keygen")
  notifier_public_key=$(sed -n 's/^GATEHOUSE_NOTIFIER_PUBLIC_KEY=//p' <<<"$keys")
  notifier_secret_key=$(sed -n 's/^GATEHOUSE_NOTIFIER_SECRET_KEY=//p' <<<"$keys")
}

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do bench_stop "$pid"; done
  deploy/kafka/kafka.sh stop --data "$work/kafka" >/dev/null 2>&1 || true
  if [[ -n ${GATEHOUSE_BENCH_KEEP:-} ]]; then echo "$bench_name: kept $work" >&2; else rm -rf "$work"; fi
}

# bench_track PID: stopped on exit unless bench_stop'ped before.
bench_track() { bench_pids+=("$1"); }

# bench_stop PID: SIGTERM (a clean close; the services drain for up to 10 s), SIGKILL if it is
# still there after 20 s, then reaped and forgotten.
bench_stop() {
  local kept=() p
  for p in "${bench_pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  bench_pids=("${kept[@]}")
  kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}

# bench_wait_for FILE PATTERN PID: until FILE has a line matching PATTERN (60 s at most, and only
# while PID lives); otherwise prints the process's stderr (FILE with .out replaced by .err).
bench_wait_for() {
  for _ in $(seq 1 1200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  echo "$bench_name: no '$2' in $1" >&2
  cat "${1%.out}.err" >&2 2>/dev/null || true
  return 1
}

# bench_start_service SERVICE NAME [VAR=VALUE...]: starts gatehouse-SERVICE with loopback ports
# chosen by the kernel and the given settings, its output in $work/NAME.out / .err, and waits
# until it is ready. Sets service_pid, grpc_port, metrics_port and ready_ms (start to ready).
bench_start_service() {
  local service=$1 name=$2 started
  shift 2
  started=$(now_ms)
  env GATEHOUSE_GRPC_LISTEN=127.0.0.1:0 GATEHOUSE_METRICS_LISTEN=127.0.0.1:0 GATEHOUSE_LOG_LEVEL=warn \
    GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" "$@" \
    "$bin/services/$service/gatehouse-$service" >"$work/$name.out" 2>"$work/$name.err" &
  service_pid=$!
  bench_track "$service_pid"
  bench_wait_for "$work/$name.out" "ready grpc=" "$service_pid"
  ready_ms=$(($(now_ms) - started))
  grpc_port=$(sed -n 's/.*ready grpc=\([0-9]*\).*/\1/p' "$work/$name.out")
  metrics_port=$(sed -n 's/.*metrics=\([0-9]*\).*/\1/p' "$work/$name.out")
}

# bench_wait_relay METRICS_PORT: until the service's relay has published everything in its log
# (10 minutes at most). The seeded events go first, so that the catch-up is not measured.
bench_wait_relay() {
  for _ in $(seq 1 3000); do [[ $(metric "$1" gatehouse_relay_lag_events) == 0 ]] && return 0; sleep 0.2; done
  echo "$bench_name: the relay did not catch up" >&2
  return 1
}

# metric PORT NAME: the sum of every series of NAME on the service's /metrics (0 if unreadable).
metric() {
  { curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } |
    awk -v name="$2" '$1 == name || index($1, name "{") == 1 {s += $NF} END {printf "%d", s}'
}
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
now_ms() { date +%s%3N; }
thousands() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
# field LINE NAME: the number after " NAME=" in a driver's result line.
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
