#!/usr/bin/env bash
# Smoke test of deploy/k8s with `podman kube play`: the manifests rewritten by podman-play.py
# (StatefulSets as pods, the Job as a pod, secrets inlined; Kafka authenticated with a generated
# password per principal) run on a private podman network; the test waits for the topic job
# (topics and ACLs) and for every service's readiness (/readyz, the image's
# HEALTHCHECK) and the web's (its home page), submits a request through the CLI and reads it back
# as HQ, then a staff member of the staff Secret (made with `gatehouse staff add`) signs in at the
# web pod's /office/sign-in and finds the request on /office/prospects (scripts/web-check.py, from
# the host: the pod's address on the network); then removes the pods, their volumes and the network.
#
#   deploy/k8s/podman-smoke.sh        (images: localhost/gatehouse:latest, localhost/gatehouse-kafka:latest,
#                                     or GATEHOUSE_IMAGE / GATEHOUSE_KAFKA_IMAGE in their place)
#   deploy/k8s/podman-smoke.sh --kafka-only
#                                     only kafka-0 and the topic job (authenticated as admin: topics
#                                     and ACLs), then a client without credentials refused and one
#                                     with admin's password listing the topics; needs only the Kafka
#                                     image (deploy/compose/kafka-auth-smoke.sh checks the ACLs)
set -euo pipefail
shopt -s inherit_errexit

kafka_only=0
case "${1:-}" in
  --kafka-only) kafka_only=1 ;;
  "") ;;
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "kube-smoke: unknown option $1 (see --help)" >&2; exit 2 ;;
esac

HERE="$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")"
readonly HERE
readonly NETWORK="gatehouse-kube-$$"
readonly IMAGE="${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}"
readonly KAFKA_IMAGE="${GATEHOUSE_KAFKA_IMAGE:-localhost/gatehouse-kafka:latest}"
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
      sales-bridge-0-sales-bridge notifier-0-notifier web-web; do
      printf -- '---- last log lines of %s\n' "${name}" >&2
      podman logs --tail 15 "${name}" >&2 2>&1 || true
    done
  fi
  podman rm -f -t 0 "${NETWORK}-client" >/dev/null 2>&1 || true
  if [[ -f ${WORK}/play.yaml ]]; then
    log "removing the pods, their volumes and the network"
    podman kube down "${WORK}/play.yaml" >/dev/null 2>&1 || true
    # The PVCs' volumes, and those podman made for ConfigMap volumes (the staff Secret's).
    local volume
    for volume in $(python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "PersistentVolumeClaim": print(d["metadata"]["name"])
    if d and d["kind"] == "Pod":
        for v in d["spec"].get("volumes", []):
            if "configMap" in v: print(v["configMap"]["name"])' "${WORK}/play.yaml"); do
      podman volume rm -f "${volume}" >/dev/null 2>&1 || true
    done
    podman network rm -f "${NETWORK}" >/dev/null 2>&1 || true
  fi
  rm -rf -- "${WORK}"
}
trap teardown EXIT

token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
public_key="" secret_key=""
if ((!kafka_only)); then
  keys="$(podman run --rm --network=none --no-healthcheck "${IMAGE}" gatehouse-keygen)"
  public_key="$(sed -n 's/^GATEHOUSE_NOTIFIER_PUBLIC_KEY=//p' <<<"${keys}")"
  secret_key="$(sed -n 's/^GATEHOUSE_NOTIFIER_SECRET_KEY=//p' <<<"${keys}")"
fi
hq_token="hq-$(token)"
# The web front door's gateway token: every service lists it with role gateway.
gateway="gateway-$(token)=gateway:web:web@example.com"
# The staff Secret gatehouse-web-staff (key staff): one HQ member, made with the image's CLI.
staff_email="hq-smoke-$$@example.com"
staff_password="Kube-Smoke-$$-Passw0rd"
staff=""
if ((!kafka_only)); then
  staff="$(printf '%s\n' "${staff_password}" | podman run --rm -i --network=none --no-healthcheck "${IMAGE}" \
    bash -c 'gatehouse staff --file /tmp/staff add --email "$1" --role hq --user hq-smoke >/dev/null && cat /tmp/staff' \
    _ "${staff_email}")" || die "gatehouse staff add failed"
fi
# One Kafka password per principal (the Secrets gatehouse-kafka-<principal>, key password).
kafka_secrets=()
admin_password=""
while IFS='=' read -r name value; do
  [[ ${name} == GATEHOUSE_KAFKA_PASSWORD_* ]] || continue
  principal="${name#GATEHOUSE_KAFKA_PASSWORD_}"
  principal="${principal,,}"
  kafka_secrets+=(--secret "gatehouse-kafka-${principal//_/-}/password=${value}")
  [[ ${principal} != admin ]] || admin_password="${value}"
done < <("${HERE}/../compose/make-env.sh" --kafka-only)
((${#kafka_secrets[@]} == 10)) || die "make-env.sh --kafka-only made $((${#kafka_secrets[@]} / 2)) Kafka passwords, want 5"

only=()
((!kafka_only)) || only=(--only kafka --only gatehouse-topics)
python3 "${HERE}/podman-play.py" \
  --secret "notifier-public-key=${public_key}" --secret "notifier-secret-key=${secret_key}" \
  --secret "onboarding-auth-tokens=${hq_token}=hq:hq-1:hq@example.com,${gateway}" \
  --secret "customers-auth-tokens=${hq_token}=hq:hq-1:hq@example.com,${gateway}" \
  --secret "sales-bridge-auth-tokens=sales-$(token)=sales:s-1:sales@example.com,${gateway}" \
  --secret "notifier-auth-tokens=op-$(token)=operator:op-1:ops@example.com,${gateway}" \
  --secret "web-gateway-token=${gateway%%=*}" --secret "gatehouse-web-staff/staff=${staff}" \
  --image "localhost/gatehouse:latest=${IMAGE}" --image "localhost/gatehouse-kafka:latest=${KAFKA_IMAGE}" \
  "${kafka_secrets[@]}" "${only[@]}" >"${WORK}/play.yaml"

podman network create "${NETWORK}" >/dev/null
log "podman kube play on network ${NETWORK}"
podman kube play --network "${NETWORK}" "${WORK}/play.yaml" >"${WORK}/play.log" 2>&1 || {
  cat "${WORK}/play.log" >&2
  die "podman kube play failed"
}

deadline=$((SECONDS + TIMEOUT))
status="$(timeout "${TIMEOUT}" podman wait gatehouse-topics-create-topics)" || die "the topic job did not finish"
[[ ${status} == 0 ]] || die "the topic job exited ${status}"
log "the topic job made the topics and granted the ACLs"

if ((kafka_only)); then
  # A Kafka CLI tool from the broker image on the network: TopicCommand --list with CONFIG.
  list_topics() { # CONFIG-TEXT
    # shellcheck disable=SC2016 # expanded by the bash in the container
    KAFKA_CLIENT_CONFIG="$1" timeout 120 podman run --rm --no-healthcheck --network "${NETWORK}" \
      --name "${NETWORK}-client" -e KAFKA_CLIENT_CONFIG "${KAFKA_IMAGE}" bash -c '
        printf "%s\n" "${KAFKA_CLIENT_CONFIG}" >/tmp/client.properties
        exec java -Xmx256m -Dlog4j2.configurationFile=/opt/gatehouse-kafka/log4j2-tools.properties \
          -cp "$(/opt/gatehouse-kafka/kafka.sh fetch)/*" org.apache.kafka.tools.TopicCommand \
          --bootstrap-server kafka-0:9092 --command-config /tmp/client.properties --list --exclude-internal' 2>&1
  }
  if out="$(list_topics $'request.timeout.ms=5000\ndefault.api.timeout.ms=10000')" || grep -q '^gatehouse\.' <<<"${out}"; then
    die "a client without credentials listed the topics: ${out}"
  fi
  log "REFUSED: a client without credentials: $(grep -m 1 -o 'TimeoutException.*' <<<"${out}" || true)"
  out="$(list_topics "security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${admin_password}\";")" ||
    die "admin could not list the topics: ${out}"
  [[ $(grep -c '^gatehouse\.' <<<"${out}") == 8 ]] || die "admin did not list the eight topics: ${out}"
  log "ALLOWED: admin lists $(grep -c '^gatehouse\.' <<<"${out}") Gatehouse topics"
  log "PASSED (kafka only)"
  exit 0
fi
for service in onboarding customers sales-bridge notifier; do
  # podman kube play does not carry the image HEALTHCHECK over: run the same check.
  until podman exec "${service}-0-${service}" gatehouse-healthcheck >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "${service} is not ready after ${TIMEOUT} s"
    sleep 1
  done
  log "${service} is ready"
done
# The web (a Deployment: the pod "web"): the image's HEALTHCHECK, GET / .
until podman exec web-web gatehouse-healthcheck >/dev/null 2>&1; do
  ((SECONDS < deadline)) || die "web is not ready after ${TIMEOUT} s"
  sleep 1
done
log "web is ready"

cli() { podman run --rm -i --no-healthcheck --network "${NETWORK}" "${IMAGE}" gatehouse --onboarding onboarding-0:50051 "$@"; }
email="smoke-$$@kube-smoke.example"
number="$(cli --json request submit --company "Kube Smoke GmbH" --street "Weg 1" --city Hamburg \
  --postal-code 20095 --country DE --phone "+49 40 1234567" --first-name Grace --last-name Hopper \
  --email "${email}" --contact-phone "+49 40 7654321" --job-title CTO | grep -o 'PR-[0-9]*' | head -n 1)"
[[ -n ${number} ]] || die "request submit returned no request number"
cli request status "${number}" "${email}" >/dev/null || die "request status failed"
cli --token "${hq_token}" prospects list >/dev/null || die "prospects list as HQ failed"
log "submitted ${number} through the onboarding pod, read it back, listed prospects as HQ"

# The web pod's address on the network (rootful podman: the host reaches it), its page port.
address="$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' \
  "$(podman pod inspect --format '{{.InfraContainerID}}' web)")"
[[ -n ${address} ]] || die "no address of the web pod on ${NETWORK}"
web_url="http://${address}:8080"
home="$(python3 "${HERE}/../../scripts/web-check.py" "${web_url}" home 2>&1)" || die "the web's home page: ${home}"
log "web: ${home}"
office="$(printf '%s\n' "${staff_password}" |
  python3 "${HERE}/../../scripts/web-check.py" "${web_url}" office "${staff_email}" "${number}" 2>&1)" ||
  die "the web's back office: ${office}"
log "web: ${staff_email} (from the staff Secret) ${office}"
log "PASSED"
