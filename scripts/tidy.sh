#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: a few checks, all errors) over the project's C++ sources, using the
# compile commands of a configured preset (default release). Exits non-zero on any finding.
#   scripts/tidy.sh [preset]
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
preset=${1:-release}
[[ -f build/$preset/compile_commands.json ]] || cmake --preset "$preset" >/dev/null
mapfile -t sources < <(git ls-files 'libs/kernel/src/*.cpp' 'libs/platform/src/*.cpp' 'services/*.cpp' 'tools/*.cpp' | grep -v '/tests/')
start=$SECONDS
# One clang-tidy per core, a few files each (it is the slowest step of the test command). Its exit
# status is not used (it is non-zero on findings, which pipefail would hide): the findings are.
findings=$(printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "build/$preset" --quiet 2>/dev/null |
  grep -E "(warning|error):" || true)
if [[ -n $findings ]]; then
  echo "$findings"
  echo "tidy: $(wc -l <<<"$findings") findings above (see .clang-tidy)" >&2
  exit 1
fi
echo "tidy: ${#sources[@]} files clean in $((SECONDS - start)) s"
