#!/usr/bin/env bash
# Proof that the containerised Kafka runs authenticated and authorised: starts only the `kafka`
# and `kafka-init` services of deploy/compose/compose.yaml with podman-compose (Kafka passwords
# from make-env.sh --kafka-only; no Gatehouse image needed), waits for kafka-init (topics + ACLs),
# then, with the Kafka CLI tools of the broker image as a real client on the stack's network:
#
#   1. a client without credentials (PLAINTEXT) gets nothing (listing topics times out)
#   2. the customers principal with a wrong password is refused (authentication failed)
#   3. customers cannot write gatehouse.onboarding.events.v1 (not authorised)
#   4. customers cannot read gatehouse.notifier.events.v1 (not one of its inputs)
#   5. customers can write its own gatehouse.customers.events.v1 (admin reads the record back)
#   6. admin lists the topics (all eight) and the ACLs of User:customers
#
# and removes every container, volume and network it made, also on failure or Ctrl-C.
#
#   deploy/compose/kafka-auth-smoke.sh [--build]
#
#   --build   build the Kafka image first (deploy/kafka/Containerfile, from the tracked and
#             untracked files of the working tree; kafka.sh's jar cache is copied in when the
#             host has it, so no Maven download is needed)
#
# Env: GATEHOUSE_KAFKA_IMAGE (default localhost/gatehouse-kafka:latest), GATEHOUSE_BASE_IMAGE
#      (for --build; default localhost/debian:bookworm, see docs/deployment.md),
#      GATEHOUSE_CONTAINER_TIMEOUT (seconds for kafka-init; default 300).
# Needs podman (with runc, see docs/deployment.md), podman-compose, the CNI dnsname plugin.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")"
readonly HERE
REPO="$(cd -- "${HERE}/../.." && pwd -P)"
readonly REPO
readonly PROG=kafka-auth-smoke
KAFKA_IMAGE="${GATEHOUSE_KAFKA_IMAGE:-localhost/gatehouse-kafka:latest}"
BASE_IMAGE="${GATEHOUSE_BASE_IMAGE:-localhost/debian:bookworm}"
TIMEOUT="${GATEHOUSE_CONTAINER_TIMEOUT:-300}"
readonly PROJECT="gatehouse-kafka-auth-$$"
readonly NETWORK="${PROJECT}_default"
readonly CLIENT_LABEL="gatehouse.kafka-auth-smoke=${PROJECT}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/${PROG}.XXXXXX")"
readonly WORK
STARTED_AT=${SECONDS}

build=0
while (($#)); do
  case "$1" in
    --build) build=1 ;;
    -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "${PROG}: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '%s [%3ds]: %s\n' "${PROG}" "$((SECONDS - STARTED_AT))" "$*" >&2; }
die() {
  printf '%s: FAILED: %s\n' "${PROG}" "$*" >&2
  exit 1
}

for tool in podman podman-compose; do
  command -v "${tool}" >/dev/null || die "'${tool}' is missing (scripts/install-deps.sh --containers)"
done

compose() { podman-compose -p "${PROJECT}" -f "${WORK}/compose/compose.yaml" "$@"; }

container_of() { # SERVICE -> its container's name
  podman ps -a --filter "label=io.podman.compose.project=${PROJECT}" \
    --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -n 1
}

teardown() {
  local status=$?
  if ((status != 0)) && [[ -f ${WORK}/compose/compose.yaml ]]; then
    local service name
    for service in kafka kafka-init; do
      name="$(container_of "${service}" 2>/dev/null)" || continue
      [[ -n ${name} ]] || continue
      printf -- '---- last log lines of %s\n' "${service}" >&2
      podman logs --tail 30 "${name}" >&2 2>&1 || true
    done
  fi
  # Only what this run made: its client containers (by label) and its compose project.
  podman ps -aq --filter "label=${CLIENT_LABEL}" | xargs -r podman rm -f -t 0 >/dev/null 2>&1 || true
  if [[ -f ${WORK}/compose/compose.yaml ]]; then
    log "tearing down ${PROJECT}"
    podman ps -aq --filter "label=io.podman.compose.project=${PROJECT}" | xargs -r podman stop -t 30 >/dev/null 2>&1 || true
    podman ps -aq --filter "label=io.podman.compose.project=${PROJECT}" | xargs -r podman rm -f -v -t 0 >/dev/null 2>&1 || true
    compose down -v >/dev/null 2>&1 || true
    podman volume ls -q --filter "label=io.podman.compose.project=${PROJECT}" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    podman network rm -f "${NETWORK}" >/dev/null 2>&1 || true
  fi
  rm -rf -- "${WORK}"
  local left
  left="$(podman ps -aq --filter "label=io.podman.compose.project=${PROJECT}" --filter "label=${CLIENT_LABEL}" | wc -l)"
  ((left == 0)) || log "warning: ${left} containers of ${PROJECT} are left"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# -------------------------------------------------------------------------------- the image

if ((build)); then
  podman image exists "${BASE_IMAGE}" ||
    die "base image ${BASE_IMAGE} not found (docs/deployment.md, '2. A base image'; or set GATEHOUSE_BASE_IMAGE)"
  ctx="${WORK}/context"
  mkdir -p "${ctx}"
  (cd "${REPO}" && git ls-files -z --cached --others --exclude-standard -- deploy/kafka |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -x -C "${ctx}"
  if libs="$("${REPO}/deploy/kafka/kafka.sh" fetch 2>/dev/null)"; then
    mkdir -p "${ctx}/deploy/kafka/jars"
    cp -a "$(dirname -- "${libs}")" "${ctx}/deploy/kafka/jars/"
  fi
  build_start=${SECONDS}
  log "building ${KAFKA_IMAGE}"
  nice -n 10 podman build --format docker --network=host --build-arg "BASE_IMAGE=${BASE_IMAGE}" \
    -f "${ctx}/deploy/kafka/Containerfile" -t "${KAFKA_IMAGE}" "${ctx}" >"${WORK}/build.log" 2>&1 || {
    tail -n 40 "${WORK}/build.log" >&2
    die "podman build of ${KAFKA_IMAGE} failed"
  }
  log "built ${KAFKA_IMAGE} in $((SECONDS - build_start)) s"
fi
podman image exists "${KAFKA_IMAGE}" || die "image ${KAFKA_IMAGE} does not exist (build it, or use --build)"

# -------------------------------------------------------------------------------- kafka + init

mkdir -p "${WORK}/compose"
cp "${HERE}/compose.yaml" "${WORK}/compose/compose.yaml"
(
  umask 077
  "${HERE}/make-env.sh" --kafka-only
  printf 'GATEHOUSE_KAFKA_IMAGE=%s\n' "${KAFKA_IMAGE}"
) >"${WORK}/compose/.env"
# shellcheck disable=SC1091 # made just above
source "${WORK}/compose/.env"

log "starting kafka and kafka-init of ${PROJECT}"
compose up -d kafka kafka-init >"${WORK}/compose-up.log" 2>&1 || {
  cat "${WORK}/compose-up.log" >&2
  die "podman-compose up failed"
}
init="$(container_of kafka-init)"
[[ -n ${init} ]] || { cat "${WORK}/compose-up.log" >&2; die "no kafka-init container"; }
init_status="$(timeout "${TIMEOUT}" podman wait "${init}")" || die "kafka-init did not finish within ${TIMEOUT} s"
[[ ${init_status} == 0 ]] || die "kafka-init exited ${init_status}"
log "kafka-init made the topics and granted the ACLs (as admin): $(podman logs "${init}" 2>&1 | grep -c 'granted User:') services"

# -------------------------------------------------------------------------------- the client

# client PRINCIPAL|none PASSWORD CLASS ARGS... : a Kafka CLI tool (org.apache.kafka.tools.CLASS)
# from the broker image, in a container on the stack's network, with PRINCIPAL's client
# properties made by kafka.sh client-properties in /tmp/client.properties (none: PLAINTEXT, no
# credentials), plus the lines of $CLIENT_EXTRA. The password reaches the container by
# environment, not on a command line.
# Stdin is the tool's. Prints the tool's stdout and stderr; returns its exit code.
# shellcheck disable=SC2016 # expanded by the bash in the container
readonly CLIENT_SCRIPT='
set -euo pipefail
libs="$(/opt/gatehouse-kafka/kafka.sh fetch)"
cfg=/tmp/client.properties
if [[ ${CLIENT_PRINCIPAL} == none ]]; then
  : >"${cfg}"
else
  printf "%s=%s\n" "${CLIENT_PRINCIPAL}" "${CLIENT_PASSWORD}" >/tmp/credentials
  /opt/gatehouse-kafka/kafka.sh client-properties --credentials /tmp/credentials \
    --user "${CLIENT_PRINCIPAL}" --java >"${cfg}"
fi
printf "%s\n" "${CLIENT_EXTRA}" >>"${cfg}"
tool="$1"
shift
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
  -Dlog4j2.configurationFile=/opt/gatehouse-kafka/log4j2-tools.properties \
  -cp "${libs}/*" "org.apache.kafka.tools.${tool}" "$@"
'
CLIENTS=0
CLIENT_EXTRA=""
client() {
  local principal="$1" password="$2"
  shift 2
  CLIENTS=$((CLIENTS + 1))
  CLIENT_PRINCIPAL="${principal}" CLIENT_PASSWORD="${password}" CLIENT_EXTRA="${CLIENT_EXTRA}" \
    timeout 120 podman run --rm -i --no-healthcheck --network "${NETWORK}" --label "${CLIENT_LABEL}" \
    --name "${PROJECT}-client-${CLIENTS}" -e CLIENT_PRINCIPAL -e CLIENT_PASSWORD -e CLIENT_EXTRA \
    "${KAFKA_IMAGE}" bash -c "${CLIENT_SCRIPT}" client "$@" 2>&1
}

# Short timeouts: a refused client fails in seconds, not after the clients' 60 s defaults.
readonly PRODUCER_TIMEOUTS=(--producer-property max.block.ms=15000 --producer-property request.timeout.ms=5000
  --producer-property delivery.timeout.ms=15000)
produce() { # PRINCIPAL PASSWORD TOPIC VALUE
  printf '%s\n' "$4" | client "$1" "$2" ConsoleProducer --bootstrap-server kafka:9092 \
    --producer.config /tmp/client.properties --topic "$3" --sync "${PRODUCER_TIMEOUTS[@]}"
}
# A refusal's evidence: the lines naming the exception, without the stack trace.
evidence() { grep -E -m 2 'Exception|[Aa]uthenticat|[Aa]uthoriz' <<<"$1" | cut -c1-300 | sed 's/^/    /' >&2 || true; }

passed=0
ok() {
  passed=$((passed + 1))
  log "ok ${passed}: $*"
}

# 1. No credentials: the SASL listener serves nothing to a PLAINTEXT client (the broker closes
#    the connection at its first request; the admin client gives up after 10 s, not 60).
out="$(CLIENT_EXTRA=$'request.timeout.ms=5000\ndefault.api.timeout.ms=10000' client none "" TopicCommand --bootstrap-server kafka:9092 --command-config /tmp/client.properties \
  --list --exclude-internal)" && rc=0 || rc=$?
if ((rc == 0)) || grep -q 'gatehouse\.' <<<"${out}"; then
  printf '%s\n' "${out}" >&2
  die "a client without credentials listed the topics"
fi
broker_says="$(podman logs "$(container_of kafka)" 2>&1 |
  grep -m 1 -o 'Unexpected Kafka request of type [A-Z_]* during SASL handshake' || true)"
[[ -n ${broker_says} ]] || die "the broker's log does not show the unauthenticated request refused"
ok "REFUSED: a client without credentials (PLAINTEXT) cannot list topics (exit ${rc})"
evidence "${out}"
printf '    broker: %s\n' "${broker_says}" >&2

# 2. A wrong password.
out="$(produce customers "wrong-password-0123456789" gatehouse.customers.events.v1 "bad-password-$$")" || true
grep -q 'Authentication failed' <<<"${out}" || {
  printf '%s\n' "${out}" >&2
  die "customers with a wrong password was not refused with an authentication failure"
}
ok "REFUSED: customers with a wrong password (authentication failed)"
evidence "${out}"

# 3. Another service's topic.
out="$(produce customers "${GATEHOUSE_KAFKA_PASSWORD_CUSTOMERS}" gatehouse.onboarding.events.v1 "forged-$$")" || true
grep -q 'TopicAuthorizationException\|Not authorized to access topics' <<<"${out}" || {
  printf '%s\n' "${out}" >&2
  die "customers was not refused writing gatehouse.onboarding.events.v1"
}
ok "REFUSED: customers writing gatehouse.onboarding.events.v1 (not authorised)"
evidence "${out}"

# 4. A topic that is not one of its inputs (customers reads onboarding and sales events).
out="$(client customers "${GATEHOUSE_KAFKA_PASSWORD_CUSTOMERS}" consumer.ConsoleConsumer --bootstrap-server kafka:9092 \
  --consumer.config /tmp/client.properties --topic gatehouse.notifier.events.v1 --group customers.smoke \
  --from-beginning --max-messages 1 --timeout-ms 15000 </dev/null)" || true
grep -q 'TopicAuthorizationException\|Not authorized to access topics' <<<"${out}" || {
  printf '%s\n' "${out}" >&2
  die "customers was not refused reading gatehouse.notifier.events.v1"
}
ok "REFUSED: customers reading gatehouse.notifier.events.v1 (not authorised)"
evidence "${out}"

# 5. Its own topic: written, and read back as admin.
token="kafka-auth-smoke-$$-${RANDOM}"
out="$(produce customers "${GATEHOUSE_KAFKA_PASSWORD_CUSTOMERS}" gatehouse.customers.events.v1 "${token}")" || {
  printf '%s\n' "${out}" >&2
  die "customers could not write gatehouse.customers.events.v1"
}
if grep -q 'Exception' <<<"${out}"; then
  printf '%s\n' "${out}" >&2
  die "customers writing gatehouse.customers.events.v1 reported an error"
fi
out="$(client admin "${GATEHOUSE_KAFKA_PASSWORD_ADMIN}" consumer.ConsoleConsumer --bootstrap-server kafka:9092 \
  --consumer.config /tmp/client.properties --topic gatehouse.customers.events.v1 --from-beginning \
  --max-messages 1 --timeout-ms 30000 </dev/null)" || true
grep -qxF "${token}" <<<"${out}" || {
  printf '%s\n' "${out}" >&2
  die "admin did not read back the record customers wrote"
}
ok "ALLOWED: customers wrote gatehouse.customers.events.v1 (admin read back '${token}')"

# 6. admin: the topics and the ACLs.
out="$(client admin "${GATEHOUSE_KAFKA_PASSWORD_ADMIN}" TopicCommand --bootstrap-server kafka:9092 \
  --command-config /tmp/client.properties --list --exclude-internal)" || {
  printf '%s\n' "${out}" >&2
  die "admin could not list the topics"
}
topics="$(grep -c '^gatehouse\.' <<<"${out}" || true)"
((topics == 8)) || {
  printf '%s\n' "${out}" >&2
  die "admin listed ${topics} Gatehouse topics, want 8"
}
ok "ALLOWED: admin lists the topics: $(grep '^gatehouse\.' <<<"${out}" | tr '\n' ' ')"
out="$(client admin "${GATEHOUSE_KAFKA_PASSWORD_ADMIN}" AclCommand --bootstrap-server kafka:9092 \
  --command-config /tmp/client.properties --list --principal User:customers)" || {
  printf '%s\n' "${out}" >&2
  die "admin could not list the ACLs"
}
ok "ALLOWED: admin lists the ACLs of User:customers:"
grep -E 'Current ACLs|principal=User:customers' <<<"${out}" | sed 's/^[[:space:]]*/    /' >&2 || true

log "PASSED: ${passed} checks; the broker refuses anonymous and wrong clients and enforces each service's ACLs"
