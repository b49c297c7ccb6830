#!/usr/bin/env bash
# Runs the README's run command in a scratch directory and checks what it shows the user; always
# stops what it started (by pid) and checks that nothing is left running.
set -euo pipefail
root=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
export GATEHOUSE_RUN_DIR=${1:?usage: run_command_test.sh RUN_DIR}
rm -rf "$GATEHOUSE_RUN_DIR"
trap '"$root/scripts/run.sh" stop >/dev/null 2>&1 || true' EXIT
output=$("$root/scripts/run.sh" 2>&1) || { echo "$output"; echo "FAIL: run.sh exited non-zero"; exit 1; }
echo "$output"
fail=0
expect() {
  if ! grep -qE -- "$1" <<<"$output"; then
    echo "FAIL: the run command did not show: $1"
    fail=1
  fi
}
expect "broker on 127\.0\.0\.1:[0-9]+"
expect "onboarding on 127\.0\.0\.1:[0-9]+"
expect "request PR-[0-9]{6} submitted; status AwaitingVerification"
expect "PR-[0-9]{6}: AwaitingVerification"
expect "error: INVALID_ARGUMENT: company.address.country_code"
expect "^NUMBER +STATUS +COMPANY"
expect "1 of 1 shown"
pids=$(cat "$GATEHOUSE_RUN_DIR"/*.pid)
"$root/scripts/run.sh" stop
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: process $pid is still running after run.sh stop"
    fail=1
  fi
done
[[ $fail == 0 ]] && echo "run command: all checks passed"
exit $fail
