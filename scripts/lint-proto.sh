#!/usr/bin/env bash
# Lints the Protobuf contracts with buf: proto/ (the public contracts, proto/buf.yaml) and the
# kernel's test protos (libs/kernel/tests/proto/buf.yaml, which leaves out the upstream copy of
# grpc.health.v1). buf comes from npm (@bufbuild/buf ships the binary for this platform), run
# with npx; nodejs and npm are installed with apt only when npx is missing. Works as root or as a
# normal user with sudo. Prints one line; exits non-zero on a finding.
#
#   scripts/lint-proto.sh
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."

buf_version=1.75.0
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
