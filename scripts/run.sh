#!/usr/bin/env bash
# The README's run command. Installs what is missing (no Java: the embedded broker needs none),
# builds, and starts the platform on loopback, leaving it running until `scripts/run.sh stop`.
#
# Today the platform is the kernel and the embedded broker: it starts gatehouse-mock-broker
# (librdkafka's mock cluster) with the topics the services will use, and prints how to reach it.
# The four services and the scripted onboarding story join this command as they land (issues 3-7).
#
#   scripts/run.sh          start (idempotent)
#   scripts/run.sh stop     stop what it started, by pid
#   scripts/run.sh status
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
run_dir="${GATEHOUSE_RUN_DIR:-$PWD/run}"
pid_file="$run_dir/mock-broker.pid"

running() { [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

case "${1:-start}" in
  stop)
    if running; then
      pid=$(cat "$pid_file")
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "run: stopped the embedded broker (pid $pid)"
    else
      echo "run: nothing is running"
    fi
    rm -f "$pid_file"
    exit 0 ;;
  status)
    if running; then echo "run: embedded broker on $(cat "$run_dir/bootstrap") (pid $(cat "$pid_file"))"; else echo "run: stopped"; fi
    exit 0 ;;
  start) ;;
  *) echo "usage: scripts/run.sh [start|stop|status]" >&2; exit 2 ;;
esac

if running; then
  echo "run: already running; embedded broker on $(cat "$run_dir/bootstrap")"
  exit 0
fi
scripts/install-deps.sh --no-java
cmake --preset release >/dev/null
cmake --build --preset release --target gatehouse-mock-broker
mkdir -p "$run_dir"
rm -f "$run_dir/bootstrap"
topics=()
names=()
for service in onboarding customers sales notifier; do
  topics+=(--topic "gatehouse.$service.events.v1:3" --topic "gatehouse.$service.dead-letters.v1:1")
  names+=("gatehouse.$service.events.v1" "gatehouse.$service.dead-letters.v1")
done
nohup build/release/tools/mock-broker/gatehouse-mock-broker "${topics[@]}" --bootstrap-file "$run_dir/bootstrap" \
  >"$run_dir/mock-broker.log" 2>&1 &
echo $! >"$pid_file"
for _ in $(seq 1 100); do [[ -s $run_dir/bootstrap ]] && break; sleep 0.1; done
[[ -s $run_dir/bootstrap ]] || { echo "run: the embedded broker did not start; see $run_dir/mock-broker.log" >&2; exit 1; }
bootstrap=$(cat "$run_dir/bootstrap")
cat <<TXT
run: the embedded Kafka broker (librdkafka's mock cluster, in memory, no Java) is up on $bootstrap
     topics: ${names[*]}
     look:   kcat -b $bootstrap -L
     stop:   scripts/run.sh stop
     The services and the onboarding story join this command as issues 3-7 land; see README.md.
TXT
