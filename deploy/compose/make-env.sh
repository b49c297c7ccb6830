#!/usr/bin/env bash
# Prints a .env for deploy/compose/compose.yaml: a new notifier key pair (gatehouse-keygen, run
# from the image), random bearer tokens for HQ, operator, sales and sales manager, the web front
# door's gateway token (every service lists it with role gateway), and a random
# Kafka password per SASL principal (admin and one per service: `deploy/kafka/kafka.sh principals`).
#
#   deploy/compose/make-env.sh [IMAGE] > deploy/compose/.env      (IMAGE: localhost/gatehouse:latest)
#   deploy/compose/make-env.sh --kafka-only                       only the Kafka passwords (no image
#                                                                 needed; to rotate them, or for
#                                                                 deploy/compose/kafka-auth-smoke.sh)
#
# Keep the file private (it holds the notifier's secret key, every token and every Kafka password)
# and keep it: a new key pair makes the verification links already sent unreadable for the notifier.
# In compose the kafka service gets every Kafka password, kafka-init admin's, and each Gatehouse
# service only its own (inside its GATEHOUSE_KAFKA_PROPERTIES, a secret setting).
set -euo pipefail
HERE="$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")"
kafka_only=0
if [[ ${1:-} == --kafka-only ]]; then
  kafka_only=1
  shift
fi
image="${1:-${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}}"
engine="${CONTAINER_ENGINE:-podman}"

token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# GATEHOUSE_KAFKA_PASSWORD_<PRINCIPAL> (upper case, '-' as '_'): 48 hex digits each.
kafka_passwords() {
  local principal name
  while read -r principal; do
    name="${principal^^}"
    printf 'GATEHOUSE_KAFKA_PASSWORD_%s=%s\n' "${name//-/_}" "$(token)"
  done < <("${HERE}/../kafka/kafka.sh" principals)
}

if ((kafka_only)); then
  printf '# Kafka passwords made by deploy/compose/make-env.sh --kafka-only on %s. Secret.\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  kafka_passwords
  exit 0
fi

keys="$("${engine}" run --rm --network=none --no-healthcheck "${image}" gatehouse-keygen)"
grep -q '^GATEHOUSE_NOTIFIER_PUBLIC_KEY=' <<<"${keys}" || { echo "make-env: gatehouse-keygen failed" >&2; exit 1; }
cat <<ENV
# Made by deploy/compose/make-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Secret: keep it private.
GATEHOUSE_IMAGE=${image}
${keys}
GATEHOUSE_HQ_TOKEN=hq-$(token)
GATEHOUSE_OPERATOR_TOKEN=op-$(token)
GATEHOUSE_SALES_TOKEN=sales-$(token)
GATEHOUSE_SALES_MANAGER_TOKEN=salesmgr-$(token)
GATEHOUSE_GATEWAY_TOKEN=gateway-$(token)
ENV
kafka_passwords
