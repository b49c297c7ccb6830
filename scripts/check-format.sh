#!/usr/bin/env bash
# Fails if any tracked C++ file differs from .clang-format (fix with: scripts/check-format.sh --fix).
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.cc' '*.hpp')
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/gatehouse-format.$$; then
  head -40 /tmp/gatehouse-format.$$ >&2
  rm -f /tmp/gatehouse-format.$$
  echo "check-format: run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/gatehouse-format.$$
echo "check-format: ${#files[@]} files formatted"
