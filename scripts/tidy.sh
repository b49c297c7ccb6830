#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: a few checks, all errors) over the project's C++ sources, using the
# compile commands of a configured preset (default release). Exits non-zero on any finding.
#   scripts/tidy.sh [preset]
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
preset=${1:-release}
[[ -f build/$preset/compile_commands.json ]] || cmake --preset "$preset" >/dev/null
mapfile -t sources < <(git ls-files 'libs/kernel/src/*.cpp' 'services/*.cpp' 'tools/*.cpp' | grep -v '/tests/')
start=$SECONDS
clang-tidy -p "build/$preset" --quiet "${sources[@]}" 2>/dev/null | grep -E "(warning|error):" && {
  echo "tidy: findings above (see .clang-tidy)" >&2
  exit 1
}
echo "tidy: ${#sources[@]} files clean in $((SECONDS - start)) s"
