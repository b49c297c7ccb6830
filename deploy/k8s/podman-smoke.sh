#!/usr/bin/env bash
# Smoke test of deploy/k8s with `podman kube play`: the manifests rewritten by podman-play.py
# (StatefulSets as pods, the Job as a pod, secrets inlined) run on a private podman network; the
# test waits for the topic job and for every service's readiness (/readyz, the image's
# HEALTHCHECK), submits a request through the CLI and reads it back as HQ, then removes the pods,
# their volumes and the network.
#
#   deploy/k8s/podman-smoke.sh        (images: localhost/gatehouse:latest, localhost/gatehouse-kafka:latest)
set -euo pipefail
shopt -s inherit_errexit

HERE="$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")"
readonly HERE
readonly NETWORK="gatehouse-kube-$$"
readonly IMAGE=localhost/gatehouse:latest
TIMEOUT="${GATEHOUSE_CONTAINER_TIMEOUT:-300}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-kube-smoke.XXXXXX")"
STARTED_AT=${SECONDS}

log() { printf 'kube-smoke [%3ds]: %s\n' "$((SECONDS - STARTED_AT))" "$*" >&2; }
die() {
  printf 'kube-smoke: FAILED: %s\n' "$*" >&2
  exit 1
}

teardown() {
  local status=$?
  if ((status != 0)); then
    local name
    for name in kafka-0-kafka gatehouse-topics-create-topics onboarding-0-onboarding customers-0-customers \
      sales-bridge-0-sales-bridge notifier-0-notifier; do
      printf -- '---- last log lines of %s\n' "${name}" >&2
      podman logs --tail 15 "${name}" >&2 2>&1 || true
    done
  fi
  if [[ -f ${WORK}/play.yaml ]]; then
    log "removing the pods, their volumes and the network"
    podman kube down "${WORK}/play.yaml" >/dev/null 2>&1 || true
    local claim
    for claim in $(python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "PersistentVolumeClaim": print(d["metadata"]["name"])' "${WORK}/play.yaml"); do
      podman volume rm -f "${claim}" >/dev/null 2>&1 || true
    done
    podman network rm -f "${NETWORK}" >/dev/null 2>&1 || true
  fi
  rm -rf -- "${WORK}"
}
trap teardown EXIT

token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
keys="$(podman run --rm --network=none --no-healthcheck "${IMAGE}" gatehouse-keygen)"
public_key="$(sed -n 's/^GATEHOUSE_NOTIFIER_PUBLIC_KEY=//p' <<<"${keys}")"
secret_key="$(sed -n 's/^GATEHOUSE_NOTIFIER_SECRET_KEY=//p' <<<"${keys}")"
hq_token="hq-$(token)"

python3 "${HERE}/podman-play.py" \
  --secret "notifier-public-key=${public_key}" --secret "notifier-secret-key=${secret_key}" \
  --secret "onboarding-auth-tokens=${hq_token}=hq:hq-1:hq@example.com" \
  --secret "customers-auth-tokens=${hq_token}=hq:hq-1:hq@example.com" \
  --secret "sales-bridge-auth-tokens=sales-$(token)=sales:s-1:sales@example.com" \
  --secret "notifier-auth-tokens=op-$(token)=operator:op-1:ops@example.com" \
  >"${WORK}/play.yaml"

podman network create "${NETWORK}" >/dev/null
log "podman kube play on network ${NETWORK}"
podman kube play --network "${NETWORK}" "${WORK}/play.yaml" >"${WORK}/play.log" 2>&1 || {
  cat "${WORK}/play.log" >&2
  die "podman kube play failed"
}

deadline=$((SECONDS + TIMEOUT))
status="$(timeout "${TIMEOUT}" podman wait gatehouse-topics-create-topics)" || die "the topic job did not finish"
[[ ${status} == 0 ]] || die "the topic job exited ${status}"
log "the topic job made the topics"
for service in onboarding customers sales-bridge notifier; do
  # podman kube play does not carry the image HEALTHCHECK over: run the same check.
  until podman exec "${service}-0-${service}" gatehouse-healthcheck >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "${service} is not ready after ${TIMEOUT} s"
    sleep 1
  done
  log "${service} is ready"
done

cli() { podman run --rm -i --no-healthcheck --network "${NETWORK}" "${IMAGE}" gatehouse --onboarding onboarding-0:50051 "$@"; }
email="smoke-$$@kube-smoke.example"
number="$(cli --json request submit --company "Kube Smoke GmbH" --street "Weg 1" --city Hamburg \
  --postal-code 20095 --country DE --phone "+49 40 1234567" --first-name Grace --last-name Hopper \
  --email "${email}" --contact-phone "+49 40 7654321" --job-title CTO | grep -o 'PR-[0-9]*' | head -n 1)"
[[ -n ${number} ]] || die "request submit returned no request number"
cli request status "${number}" "${email}" >/dev/null || die "request status failed"
cli --token "${hq_token}" prospects list >/dev/null || die "prospects list as HQ failed"
log "submitted ${number} through the onboarding pod, read it back, listed prospects as HQ"
log "PASSED"
