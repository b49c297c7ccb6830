#!/usr/bin/env bash
# Prints a .env for deploy/compose/compose.yaml: a new notifier key pair (gatehouse-keygen, run
# from the image) and random bearer tokens for HQ, operator, sales and sales manager.
#
#   deploy/compose/make-env.sh [IMAGE] > deploy/compose/.env      (IMAGE: localhost/gatehouse:latest)
#
# Keep the file private (it holds the notifier's secret key and every token) and keep it: a new
# key pair makes the verification links already sent unreadable for the notifier.
set -euo pipefail
image="${1:-${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}}"
engine="${CONTAINER_ENGINE:-podman}"

token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

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
ENV
