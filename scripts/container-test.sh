#!/usr/bin/env bash
# The container test (issue 8): builds the images with podman, starts deploy/compose with
# podman-compose, plays one onboarding story through the `gatehouse` CLI against it, checks the
# web front door over its published port (the home page; a staff member added with
# `gatehouse staff add` in the web container signs in at /office/sign-in and finds the story's
# request on /office/prospects), stops a service with SIGTERM and starts it again on its volume,
# and tears everything down.
#
#   scripts/container-test.sh [--from-head] [--no-build] [--keep]
#
#   --from-head   build from `git archive HEAD` instead of the working tree (tracked and
#                 untracked, not ignored, files)
#   --no-build    use the images already tagged (GATEHOUSE_IMAGE etc.)
#   --keep        leave the stack running at the end (prints how to stop it)
#   --ctest       run by ctest: exits 77 (skipped) unless GATEHOUSE_CONTAINER_TESTS=1
#
# Opt-in, not part of scripts/test.sh: a cold image build compiles the services (10-20 min on
# 2 cores). Run it with `GATEHOUSE_CONTAINER_TESTS=1 ctest --preset release -L container` or
# directly. Needs podman, runc and podman-compose (scripts/install-deps.sh --containers) and
# root for the base image made with debootstrap; see docs/deployment.md for the podman setup.
#
# Env: GATEHOUSE_BASE_IMAGE   base of every image (default localhost/debian:bookworm, made with
#                             debootstrap when missing; debian:bookworm where a registry is)
#      GATEHOUSE_IMAGE, GATEHOUSE_KAFKA_IMAGE, GATEHOUSE_SMTP_SINK_IMAGE   image tags
#      GATEHOUSE_CONTAINER_TIMEOUT   seconds to wait for the stack to be ready (default 300)
set -euo pipefail
shopt -s inherit_errexit

REPO="$(cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)"
readonly REPO
readonly PROG=container-test

from_head=0
build=1
keep=0
while (($#)); do
  case "$1" in
    --from-head) from_head=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --ctest)
      if [[ ${GATEHOUSE_CONTAINER_TESTS:-0} != 1 ]]; then
        echo "${PROG}: skipped (opt-in: set GATEHOUSE_CONTAINER_TESTS=1)"
        exit 77
      fi
      ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "${PROG}: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

IMAGE="${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}"
KAFKA_IMAGE="${GATEHOUSE_KAFKA_IMAGE:-localhost/gatehouse-kafka:latest}"
SINK_IMAGE="${GATEHOUSE_SMTP_SINK_IMAGE:-localhost/gatehouse-smtp-sink:latest}"
BASE_IMAGE="${GATEHOUSE_BASE_IMAGE:-localhost/debian:bookworm}"
TIMEOUT="${GATEHOUSE_CONTAINER_TIMEOUT:-300}"
PROJECT="gatehouse-ct-$$"
NETWORK="${PROJECT}_default"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-container-test.XXXXXX")"
STARTED_AT=${SECONDS}

log() { printf '%s [%3ds]: %s\n' "${PROG}" "$((SECONDS - STARTED_AT))" "$*" >&2; }
die() {
  printf '%s: FAILED: %s\n' "${PROG}" "$*" >&2
  exit 1
}

for tool in podman podman-compose git python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' is missing (scripts/install-deps.sh --containers)"
done

compose() { podman-compose -p "${PROJECT}" -f "${WORK}/compose/compose.yaml" "$@"; }

# The container of a compose service (podman-compose names it <project>_<service>_1,
# docker compose <project>-<service>-1: find it by its labels instead).
container_of() {
  podman ps -a --filter "label=io.podman.compose.project=${PROJECT}" \
    --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -n 1
}

teardown() {
  local status=$?
  if ((keep)) && ((status == 0)); then
    log "left running: podman-compose -p ${PROJECT} -f ${WORK}/compose/compose.yaml down -v"
    return
  fi
  if ((status != 0)) && [[ -f ${WORK}/compose/compose.yaml ]]; then
    local service
    for service in kafka kafka-init onboarding customers sales-bridge notifier web; do
      local name
      name="$(container_of "${service}" 2>/dev/null)" || continue
      [[ -n ${name} ]] || continue
      printf -- '---- last log lines of %s\n' "${service}" >&2
      podman logs --tail 25 "${name}" >&2 2>&1 || true
    done
  fi
  if [[ -f ${WORK}/compose/compose.yaml ]]; then
    log "tearing down ${PROJECT}"
    # Stop (SIGTERM) and remove the containers with their anonymous volumes (kafka-init's
    # /var/lib/kafka), which `down -v` of podman-compose 1.0.3 leaves behind; then the rest.
    podman ps -aq --filter "label=io.podman.compose.project=${PROJECT}" | xargs -r podman stop -t 30 >/dev/null 2>&1 || true
    podman ps -aq --filter "label=io.podman.compose.project=${PROJECT}" | xargs -r podman rm -f -v -t 0 >/dev/null 2>&1 || true
    compose down -v >/dev/null 2>&1 || true
    podman volume ls -q --filter "label=io.podman.compose.project=${PROJECT}" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    podman network rm -f "${NETWORK}" >/dev/null 2>&1 || true
  fi
  rm -rf -- "${WORK}"
  local left
  left="$(podman ps -aq --filter "label=io.podman.compose.project=${PROJECT}" | wc -l)"
  ((left == 0)) || log "warning: ${left} containers of ${PROJECT} are left"
}
trap teardown EXIT

# -------------------------------------------------------------------------------- images

make_base_image() {
  podman image exists "${BASE_IMAGE}" && return
  [[ ${BASE_IMAGE} == localhost/debian:bookworm ]] ||
    die "base image ${BASE_IMAGE} not found (set GATEHOUSE_BASE_IMAGE, or pull it)"
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/install-deps.sh --containers)"
  (($(id -u) == 0)) || die "making ${BASE_IMAGE} with debootstrap needs root"
  local mirror rootfs="${WORK}/rootfs"
  mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  log "making ${BASE_IMAGE} with debootstrap (${mirror:-http://deb.debian.org/debian})"
  debootstrap --variant=minbase bookworm "${rootfs}" "${mirror:-http://deb.debian.org/debian}" >"${WORK}/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see ${WORK}/debootstrap.log)"
  rm -rf "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/lib/apt/lists/*
  tar -C "${rootfs}" -c . | podman import - "${BASE_IMAGE}" >/dev/null
  rm -rf -- "${rootfs}"
}

# A build context with the sources only (not build/ and other ignored files).
make_context() {
  local ctx="${WORK}/context"
  mkdir -p "${ctx}"
  if ((from_head)); then
    git -C "${REPO}" archive HEAD | tar -x -C "${ctx}"
  else
    (cd "${REPO}" && git ls-files -z --cached --others --exclude-standard |
      tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -x -C "${ctx}"
  fi
  # The Kafka jars from kafka.sh's cache, when the host has them: the image build then needs
  # no Maven Central (and works behind a TLS-intercepting proxy).
  local libs
  if libs="$("${REPO}/deploy/kafka/kafka.sh" fetch 2>/dev/null)"; then
    mkdir -p "${ctx}/deploy/kafka/jars"
    cp -a "$(dirname -- "${libs}")" "${ctx}/deploy/kafka/jars/"
  fi
  printf '%s\n' "${ctx}"
}

build_image() { # TAG CONTAINERFILE CONTEXT
  local start=${SECONDS}
  log "building $1 ($2)"
  nice -n 10 podman build --format docker --network=host --build-arg "BASE_IMAGE=${BASE_IMAGE}" \
    -f "$2" -t "$1" "$3" >"${WORK}/build-${1##*/}.log" 2>&1 || {
    tail -n 40 "${WORK}/build-${1##*/}.log" >&2
    die "podman build of $1 failed"
  }
  log "built $1 in $((SECONDS - start)) s"
}

if ((build)); then
  make_base_image
  ctx="$(make_context)"
  build_image "${SINK_IMAGE}" "${ctx}/deploy/compose/smtp-sink.Containerfile" "${ctx}/deploy/compose"
  build_image "${KAFKA_IMAGE}" "${ctx}/deploy/kafka/Containerfile" "${ctx}"
  build_image "${IMAGE}" "${ctx}/deploy/container/Containerfile" "${ctx}"
fi
for image in "${IMAGE}" "${KAFKA_IMAGE}" "${SINK_IMAGE}"; do
  podman image exists "${image}" || die "image ${image} does not exist (build it, or drop --no-build)"
  log "image ${image}: $(podman image inspect --format '{{.Size}}' "${image}" | awk '{printf "%.0f MB", $1 / 1e6}')"
done

# -------------------------------------------------------------------------------- the stack

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

mkdir -p "${WORK}/compose"
cp "${REPO}/deploy/compose/compose.yaml" "${WORK}/compose/compose.yaml"
read -r port_onboarding port_customers port_sales port_notifier port_web <<<"$(free_ports 5)"
web_url="http://127.0.0.1:${port_web}"
{
  "${REPO}/deploy/compose/make-env.sh" "${IMAGE}"
  printf 'GATEHOUSE_KAFKA_IMAGE=%s\nGATEHOUSE_SMTP_SINK_IMAGE=%s\n' "${KAFKA_IMAGE}" "${SINK_IMAGE}"
  printf 'GATEHOUSE_ONBOARDING_PORT=%s\nGATEHOUSE_CUSTOMERS_PORT=%s\n' "${port_onboarding}" "${port_customers}"
  printf 'GATEHOUSE_SALES_PORT=%s\nGATEHOUSE_NOTIFIER_PORT=%s\n' "${port_sales}" "${port_notifier}"
  # The emails' links open the web service at its published address.
  printf 'GATEHOUSE_WEB_PORT=%s\nGATEHOUSE_LINKS_BASE_URL=%s\n' "${port_web}" "${web_url}"
} >"${WORK}/compose/.env"
# shellcheck disable=SC1091 # made just above
source "${WORK}/compose/.env"

log "starting ${PROJECT}"
compose up -d >"${WORK}/compose-up.log" 2>&1 || {
  cat "${WORK}/compose-up.log" >&2
  die "podman-compose up failed"
}

deadline=$((SECONDS + TIMEOUT))
init="$(container_of kafka-init)"
init_status="$(timeout "${TIMEOUT}" podman wait "${init}")" || die "kafka-init did not finish within ${TIMEOUT} s"
[[ ${init_status} == 0 ]] || die "kafka-init exited ${init_status}"
log "kafka-init made the topics"

wait_healthy() { # SERVICE: the image's HEALTHCHECK (GET /readyz; the web: GET /) passes
  local name
  name="$(container_of "$1")"
  [[ -n ${name} ]] || die "no container for $1"
  until podman healthcheck run "${name}" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$1 is not ready after ${TIMEOUT} s"
    sleep 1
  done
  log "$1 is ready"
}
for service in onboarding customers sales-bridge notifier web; do
  wait_healthy "${service}"
done

# -------------------------------------------------------------------------------- the story

# The CLI runs in a container on the stack's network and reaches the services by name.
cli() {
  podman run --rm -i --no-healthcheck --network "${NETWORK}" "${IMAGE}" gatehouse \
    --onboarding onboarding:50051 --customers customers:50052 --sales sales-bridge:50053 \
    --notifier notifier:50054 "$@"
}

# The link (text part) of the newest email to RECIPIENT whose link contains PATH, from the
# SMTP sink's Maildir; empty when there is none yet.
mail_link() { # RECIPIENT PATH
  podman exec -i "$(container_of smtp-sink)" python3 - "$1" "$2" <<'PY'
import email, email.policy, mailbox, re, sys
recipient, path = sys.argv[1], sys.argv[2]
found = ""
box = mailbox.Maildir("/var/mail/sink/maildir", factory=None, create=False)
for key in sorted(box.keys()):  # Maildir names start with the delivery time
    message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    if recipient not in str(message["To"]):
        continue
    body = message.get_body(preferencelist=("plain",))
    match = re.search(r"https?://\S*" + re.escape(path) + r"\S*", body.get_content() if body else "")
    if match:
        found = match.group(0)
print(found)
PY
}

wait_mail_link() { # RECIPIENT PATH
  local link=""
  until link="$(mail_link "$1" "$2" 2>/dev/null)" && [[ -n ${link} ]]; do
    ((SECONDS < deadline)) || die "no email to $1 with a ${2} link within ${TIMEOUT} s"
    sleep 1
  done
  printf '%s\n' "${link}"
}

query_value() { # URL NAME
  python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.argv[1]).query)[sys.argv[2]][0])' "$1" "$2"
}

# Retries COMMAND... (up to the deadline) while it fails: events travel between services.
eventually() {
  local output
  until output="$("$@" 2>&1)"; do
    ((SECONDS < deadline)) || die "still failing at the deadline: $* -> ${output}"
    sleep 1
  done
  printf '%s\n' "${output}"
}

deadline=$((SECONDS + TIMEOUT))
requester="ada.container-$$@acme-container.example"
submitted="$(cli --json request submit --company "Acme Container GmbH" --street "Hauptstrasse 1" \
  --city Berlin --postal-code 10115 --country DE --phone "+49 30 1234567" \
  --first-name Ada --last-name Lovelace --email "${requester}" --contact-phone "+49 30 7654321" \
  --job-title CTO)" || die "request submit failed: ${submitted}"
number="$(grep -o 'PR-[0-9]*' <<<"${submitted}" | head -n 1)"
[[ -n ${number} ]] || die "no request number in: ${submitted}"
log "submitted ${number}"

link="$(wait_mail_link "${requester}" /verify?)"
[[ $(query_value "${link}" request) == "${number}" ]] || die "the verification link names another request: ${link}"
[[ ${link} == "${web_url}/verify?"* ]] || die "the verification link does not open the web service at ${web_url}: ${link}"
log "verification email at the SMTP sink: ${link%%token=*}token=..."
# "--": a token may start with '-' (base64url), which would read as an option.
cli request verify -- "${number}" "$(query_value "${link}" token)" >/dev/null || die "request verify failed"
log "verified ${number}"

eventually cli --token "${GATEHOUSE_HQ_TOKEN}" prospects approve "${number}" --yes >/dev/null
log "HQ approved ${number}"

link="$(wait_mail_link "${requester}" /set-password?)"
log "welcome email with the set-password link at the SMTP sink"
password="Container-Test-$$-Passw0rd"
printf '%s\n' "${password}" | cli set-password --token="$(query_value "${link}" token)" >/dev/null ||
  die "set-password failed"
session="$(printf '%s\n' "${password}" | cli --json sign-in --email "${requester}")" || die "sign-in failed: ${session}"
log "the new partner administrator signed in"

customers="$(eventually cli --token "${GATEHOUSE_HQ_TOKEN}" customers list)"
grep -q "Acme Container GmbH" <<<"${customers}" || die "the customer is not in the customer master: ${customers}"
log "the customer is in the customer master"

# Leads come from verified requests only in approval mode crm; in this direct-mode stack the
# sales bridge must answer an authenticated sales call (and refuse an HQ token).
cli --token "${GATEHOUSE_SALES_TOKEN}" leads list >/dev/null || die "leads list with the sales token failed"
if cli --token "${GATEHOUSE_HQ_TOKEN}" leads list >/dev/null 2>&1; then
  die "the sales bridge accepted an HQ token for leads list"
fi
log "the sales bridge answers sales users (and refuses others)"

notifications="$(cli --token "${GATEHOUSE_OPERATOR_TOKEN}" notifications list)" || die "notifications list failed"
log "the notifier lists $(grep -c . <<<"${notifications}") lines of notifications"

# -------------------------------------------------------------------------------- the web

# The web over its published port, from the host: scripts/web-check.py (a plain HTTP client).
web_client() { python3 "${REPO}/scripts/web-check.py" "${web_url}" "$@"; }

home="$(web_client home 2>&1)" || die "the web's home page over ${web_url}: ${home}"
log "web: ${home}"

# The first back-office member, as docs/deployment.md says: `gatehouse staff add` in the web
# container, writing the staff directory on its volume (the web re-reads it within a second).
staff_email="hq-ct-$$@gatehouse.localhost"
staff_password="Staff-Container-$$-Passw0rd"
printf '%s\n' "${staff_password}" | podman exec -i "$(container_of web)" gatehouse staff \
  --file /var/lib/gatehouse/staff add --email "${staff_email}" --role hq --user "hq-ct-$$" >/dev/null ||
  die "gatehouse staff add in the web container failed"
log "web: staff member ${staff_email} (hq) added with gatehouse staff add in the web container"
sleep 2
office="$(printf '%s\n' "${staff_password}" | web_client office "${staff_email}" "${number}" 2>&1)" ||
  die "the back office over ${web_url}: ${office}"
log "web: ${staff_email} ${office}"

# -------------------------------------------------------------------------------- stop / start

name="$(container_of onboarding)"
podman stop -t 30 "${name}" >/dev/null
code="$(podman inspect --format '{{.State.ExitCode}}' "${name}")"
[[ ${code} == 0 ]] || die "onboarding exited ${code} on SIGTERM (want 0)"
log "onboarding stopped on SIGTERM with exit code 0"
podman start "${name}" >/dev/null
deadline=$((SECONDS + TIMEOUT))
wait_healthy onboarding
status="$(cli request status "${number}" "${requester}")" || die "request status after the restart failed: ${status}"
log "after the restart on its volume, ${number} is still there: $(tr '\n' ' ' <<<"${status}" | cut -c1-120)"

name="$(container_of web)"
podman stop -t 30 "${name}" >/dev/null
code="$(podman inspect --format '{{.State.ExitCode}}' "${name}")"
[[ ${code} == 0 ]] || die "web exited ${code} on SIGTERM (want 0)"
log "web stopped on SIGTERM with exit code 0"

log "PASSED: stack up, onboarding story played, web front door and back office checked, graceful stop and restart"
