#!/usr/bin/env bash
# Installs, with apt, what building and testing Gatehouse needs on Debian bookworm; packages
# already installed are skipped. Works as root or as a normal user with sudo.
#
#   scripts/install-deps.sh            build + test dependencies, including Java and Maven
#                                      for the real Kafka broker
#   scripts/install-deps.sh --no-java  without Java / Maven (the embedded broker needs neither)
#   scripts/install-deps.sh --containers  also podman, podman-compose and debootstrap for the
#                                      opt-in container test (scripts/container-test.sh)
set -euo pipefail

with_java=1
with_containers=0
for arg in "$@"; do
  case "$arg" in
    --no-java) with_java=0 ;;
    --containers) with_containers=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git ca-certificates python3 clang-format clang-tidy
  clang-14 libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh)
  # libraries (all from Debian; see docs/building.md)
  librdkafka-dev libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  librocksdb-dev catch2 libsodium-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  nlohmann-json3-dev libcpp-httplib-dev libbenchmark-dev libcurl4-openssl-dev libkainjow-mustache-dev
  # test tools: kcat pokes topics, aiosmtpd is the real SMTP server the notifier tests talk to
  kcat python3-aiosmtpd
  # the web service's browser suite (ctest -L browser): headless Chromium driven by Selenium
  chromium chromium-driver python3-selenium fonts-dejavu-core
  # the integrator examples: generated protobuf classes for Python, a plain Kafka client, and a
  # venv for what only PyPI has (standardwebhooks)
  python3-protobuf python3-confluent-kafka python3-venv python3-pip
)
if [[ $with_java == 1 ]]; then
  # a JDK, not only a JRE: the Java example consumer is built with Maven
  packages+=(default-jdk-headless maven)
fi
if [[ $with_containers == 1 ]]; then
  # dnsname: containers of a compose network find each other by service name (CNI backend)
  packages+=(podman runc podman-compose debootstrap golang-github-containernetworking-plugin-dnsname catatonit)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
