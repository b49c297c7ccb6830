#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang, AddressSanitizer and UBSan, and runs each for a
# time budget (default 20 s) from a seed corpus (the golden fixtures, then what earlier runs found,
# kept in build/fuzz/corpus). A crash fails the script and leaves the input in build/fuzz/ as a
# regression case. Needs a configured release build for the generated protobuf sources.
#   scripts/fuzz.sh [seconds per target]
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
seconds=${1:-20}
out=build/fuzz
mkdir -p "$out"
[[ -f build/release/proto/generated/gatehouse/kernel/v1/envelope.pb.cc ]] || {
  cmake --preset release >/dev/null
  cmake --build --preset release --target gatehouse_proto_onboarding >/dev/null
}
gen=build/release/proto/generated
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I libs/kernel/include -I libs/platform/include -I services/onboarding -I "$gen")
protos=("$gen/gatehouse/kernel/v1/envelope.pb.cc" "$gen/gatehouse/common/v1/common.pb.cc"
        "$gen/gatehouse/onboarding/v1/events.pb.cc")
build() { # build NAME SOURCES...
  local name=$1
  shift
  clang++-14 "${flags[@]}" "$@" "${protos[@]}" -lprotobuf -o "$out/$name"
}
build envelope_view_fuzz fuzz/envelope_view_fuzz.cpp libs/kernel/src/envelope_view.cpp
build request_validation_fuzz fuzz/request_validation_fuzz.cpp services/onboarding/domain/validation.cpp \
  libs/platform/src/validation.cpp

mkdir -p "$out/corpus/envelope_view" "$out/corpus/request_validation"
cp tests/golden/kernel/v1/EventEnvelope.bin "$out/corpus/envelope_view/golden-envelope"
printf 'DE136695976\0Jane@ACME.example\0Acme GmbH\0DE\0+49 30 1234567\0https://acme.example\0Hauptstrasse 1\0Berlin\00010115\0Jane\0Doe\0+49 30 7654321\0Buyer\0' \
  >"$out/corpus/request_validation/valid-form"
for target in envelope_view request_validation; do
  start=$SECONDS
  "$out/${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/${target}-" \
    "$out/corpus/$target" 2>"$out/$target.log" || { tail -40 "$out/$target.log"; echo "fuzz: $target FAILED" >&2; exit 1; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log")
  echo "fuzz: $target: ${runs:-?} inputs in $((SECONDS - start)) s, no crash"
done
