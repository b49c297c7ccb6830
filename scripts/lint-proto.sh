#!/usr/bin/env bash
# Checks the published contracts; exits non-zero on any finding:
# 1. buf lint on proto/ (the public contracts, proto/buf.yaml) and the kernel's test protos
#    (libs/kernel/tests/proto/buf.yaml, which leaves out the upstream copy of grpc.health.v1);
# 2. buf breaking: proto/ as it is now against proto/ of the previous commit (HEAD~1), with the
#    WIRE_JSON rules of proto/buf.yaml, so a change that breaks an existing consumer (a renumbered
#    or retyped field, a removed message, ...) fails the test command. Skipped, saying so, where
#    there is no previous commit (a shallow clone or a source tarball);
# 3. docs/asyncapi.yaml is what scripts/asyncapi.py generates from proto/ now, and the AsyncAPI
#    CLI (npm) validates it, Protobuf schemas included.
# buf and the AsyncAPI CLI come from npm and run with npx; nodejs and npm are installed with apt
# only when npx is missing. Works as root or as a normal user with sudo.
#
#   scripts/lint-proto.sh
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."

buf_version=1.75.0
# 4.x is the last AsyncAPI CLI that runs on Debian bookworm's nodejs 18 (5.x needs node 24).
asyncapi_cli_version=4.1.1
dirs=(proto libs/kernel/tests/proto)

if ! command -v npx >/dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "lint-proto: npx is missing, not root and no sudo; install: nodejs npm" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  echo "lint-proto: installing nodejs npm with apt" >&2
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# Quiet npm: no notices, funding or audit lines around buf's own output.
export npm_config_loglevel=error npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

buf() { npx --yes "@bufbuild/buf@${buf_version}" "$@"; }

failed=()
for dir in "${dirs[@]}"; do
  (cd "$dir" && buf lint) || failed+=("$dir")
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "lint-proto: buf ${buf_version} lint FAILED in ${failed[*]} (findings above)" >&2
  exit 1
fi
echo "lint-proto: buf ${buf_version} lint passed in ${dirs[*]}"

if git rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null 2>&1; then
  buf breaking proto --against '.git#ref=HEAD~1,subdir=proto' \
    || { echo "lint-proto: buf breaking FAILED: proto/ breaks consumers of the previous commit (findings above)" >&2; exit 1; }
  echo "lint-proto: buf breaking passed: proto/ keeps every consumer of $(git rev-parse --short HEAD~1) working"
else
  echo "lint-proto: buf breaking SKIPPED: no previous commit to compare with (shallow clone or no git)"
fi

/usr/bin/python3 scripts/asyncapi.py --check
# The CLI sends usage metrics unless told not to; it reads its settings from this file.
analytics=$(mktemp)
trap 'rm -f "$analytics"' EXIT
echo '{"analyticsEnabled":"false","infoMessageShown":"true","userID":"gatehouse-ci"}' >"$analytics"
if ! output=$(CI=true ASYNCAPI_METRICS_CONFIG_PATH="$analytics" \
    npx --yes "@asyncapi/cli@${asyncapi_cli_version}" validate docs/asyncapi.yaml 2>&1); then
  echo "$output" >&2
  echo "lint-proto: AsyncAPI ${asyncapi_cli_version} validation of docs/asyncapi.yaml FAILED (above)" >&2
  exit 1
fi
echo "lint-proto: docs/asyncapi.yaml validated by the AsyncAPI CLI ${asyncapi_cli_version}"
