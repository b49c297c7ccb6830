#!/usr/bin/env bash
# The README's run command. Installs what is missing (no Java: the embedded broker needs none),
# builds, starts the platform on loopback — the embedded broker (librdkafka's mock cluster) and
# the four services, the notifier writing emails as files, and the web front door — then plays a
# whole onboarding story through the `gatehouse` CLI, showing each step, and leaves everything
# running to explore and continue in the browser (it prints the URL and the staff sign-ins).
#
#   scripts/run.sh          start (idempotent) and play the story
#   scripts/run.sh stop     stop what it started, by pid
#   scripts/run.sh status
#
# Everything lives in $GATEHOUSE_RUN_DIR (default ./run): pids, logs, data, keys, tokens, emails.
set -euo pipefail
cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
root=$PWD
run_dir="${GATEHOUSE_RUN_DIR:-$root/run}"
bin=$root/build/release
services=(onboarding customers sales-bridge notifier)
declare -A binary=(
  [onboarding]=$bin/services/onboarding/gatehouse-onboarding
  [customers]=$bin/services/customers/gatehouse-customers
  [sales-bridge]=$bin/services/sales-bridge/gatehouse-sales-bridge
  [notifier]=$bin/services/notifier/gatehouse-notifier
)

# Running, not a zombie: a killed process whose parent (a finished run.sh) left it to an init that
# has not reaped it yet still answers kill -0.
alive() {
  [[ -f $run_dir/$1.pid ]] || return 1
  local pid
  pid=$(cat "$run_dir/$1.pid")
  kill -0 "$pid" 2>/dev/null && [[ $(ps -o stat= -p "$pid" 2>/dev/null) != Z* ]]
}

stop_one() {
  local name=$1
  if alive "$name"; then
    local pid
    pid=$(cat "$run_dir/$name.pid")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "run: stopped $name (pid $pid)"
  fi
  rm -f "$run_dir/$name.pid"
}

stop_services() {
  for name in web notifier sales-bridge customers onboarding; do stop_one "$name"; done
}
stop_all() {
  stop_services
  stop_one mock-broker
}

case "${1:-start}" in
  stop)
    stop_all
    exit 0 ;;
  status)
    for name in mock-broker "${services[@]}" web; do
      if alive "$name"; then echo "run: $name running (pid $(cat "$run_dir/$name.pid"))"; else echo "run: $name stopped"; fi
    done
    exit 0 ;;
  start) ;;
  *) echo "usage: scripts/run.sh [start|stop|status]" >&2; exit 2 ;;
esac

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Shows a CLI call, then runs it.
show() {
  printf '$ gatehouse'
  printf ' %q' "$@"
  printf '\n'
  "$cli" "$@"
}
token() { cat "$run_dir/$1-token"; }

# The port a service printed in its "<name> ready grpc=PORT metrics=PORT" line.
grpc_port() { sed -n 's/.*ready grpc=\([0-9]*\).*/\1/p' "$run_dir/$1.out" | tail -1; }

start_service() {
  local name=$1
  shift
  rm -f "$run_dir/$name.out"
  env GATEHOUSE_DATA_DIR="$run_dir/data/$name" \
    GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS="$(cat "$run_dir/bootstrap")" \
    GATEHOUSE_GRPC_LISTEN=127.0.0.1:0 \
    GATEHOUSE_NOTIFIER_PUBLIC_KEY="$GATEHOUSE_NOTIFIER_PUBLIC_KEY" \
    "$@" nohup "${binary[$name]}" >"$run_dir/$name.out" 2>"$run_dir/$name.log" &
  echo $! >"$run_dir/$name.pid"
  for _ in $(seq 1 600); do grep -q "ready grpc=" "$run_dir/$name.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "ready grpc=" "$run_dir/$name.out" || { echo "run: $name did not start; see $run_dir/$name.log" >&2; exit 1; }
  echo "$name on 127.0.0.1:$(grpc_port "$name") (log: $run_dir/$name.log)"
}

running=1
for name in mock-broker "${services[@]}" web; do alive "$name" || running=0; done
if [[ $running == 0 ]]; then
  step "install what is missing, build"
  scripts/install-deps.sh --no-java
  cmake --preset release >/dev/null
  cmake --build --preset release --target gatehouse-mock-broker gatehouse-onboarding gatehouse-customers \
    gatehouse-sales-bridge gatehouse-notifier gatehouse-web gatehouse gatehouse-keygen
  mkdir -p "$run_dir"
  # The embedded broker keeps its topics in memory: while it runs, only the services are restarted
  # (each resumes from its own log and the broker's offsets), so that events published while a
  # service was down still reach it. A new broker starts with empty topics.
  if alive mock-broker; then
    stop_services
  else
    stop_all
    step "start the embedded Kafka broker (in memory, no Java)"
    rm -f "$run_dir/bootstrap"
    topics=()
    for topic in onboarding customers sales notifier; do topics+=(--topic "gatehouse.$topic.events.v1:3"); done
    for service in "${services[@]}"; do topics+=(--topic "gatehouse.$service.dead-letters.v1:1"); done
    nohup "$bin/tools/mock-broker/gatehouse-mock-broker" "${topics[@]}" --bootstrap-file "$run_dir/bootstrap" \
      >"$run_dir/mock-broker.log" 2>&1 &
    echo $! >"$run_dir/mock-broker.pid"
    for _ in $(seq 1 100); do [[ -s $run_dir/bootstrap ]] && break; sleep 0.1; done
    [[ -s $run_dir/bootstrap ]] || { echo "run: the broker did not start; see $run_dir/mock-broker.log" >&2; exit 1; }
  fi
  echo "broker on $(cat "$run_dir/bootstrap")"

  step "start the four services (approval mode crm: the sales bridge's opportunity decides)"
  [[ -f $run_dir/keys.env ]] || "$bin/tools/keygen/gatehouse-keygen" >"$run_dir/keys.env"
  for who in hq sales operator gateway; do
    [[ -f $run_dir/$who-token ]] || head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$run_dir/$who-token"
  done
  chmod 600 "$run_dir/keys.env" "$run_dir"/*-token
  # shellcheck disable=SC1091
  source "$run_dir/keys.env"
  mkdir -p "$run_dir/outbox"
  # The web front door calls every service on behalf of signed-in staff with the gateway token.
  gateway="$(token gateway)=gateway:web:web@hq.example"
  start_service onboarding GATEHOUSE_ONBOARDING_APPROVAL_MODE=crm GATEHOUSE_GRPC_TRUSTED_PROXIES=127.0.0.1 \
    GATEHOUSE_AUTH_TOKENS="$(token hq)=hq:hilda:hilda@hq.example,$gateway"
  start_service customers GATEHOUSE_GRPC_TRUSTED_PROXIES=127.0.0.1 \
    GATEHOUSE_AUTH_TOKENS="$(token hq)=hq:hilda:hilda@hq.example,$(token operator)=operator:otto:otto@ops.example,$gateway"
  start_service sales-bridge \
    GATEHOUSE_AUTH_TOKENS="$(token sales)=sales-manager:sam:sam@sales.example,$gateway"
  # The emails' links open the web front door: its port is chosen now (8080, or the next free one).
  web_port=${GATEHOUSE_WEB_PORT:-8080}
  while (: <"/dev/tcp/127.0.0.1/$web_port") 2>/dev/null; do web_port=$((web_port + 1)); done
  start_service notifier GATEHOUSE_NOTIFIER_SECRET_KEY="$GATEHOUSE_NOTIFIER_SECRET_KEY" \
    GATEHOUSE_EMAIL_TRANSPORT=file GATEHOUSE_EMAIL_FILE_DIR="$run_dir/outbox" \
    GATEHOUSE_LINKS_BASE_URL="http://127.0.0.1:$web_port" GATEHOUSE_DELIVERY_POLL_INTERVAL=100ms \
    GATEHOUSE_AUTH_TOKENS="$(token operator)=operator:otto:otto@ops.example,$gateway"

  step "start the web front door, with a staff directory for the back office"
  if [[ ! -f $run_dir/staff ]]; then
    : >"$run_dir/staff-passwords"
    chmod 600 "$run_dir/staff-passwords"
    for member in hq:hilda:hilda@hq.example sales-manager:sam:sam@sales.example sales:sue:sue@sales.example \
      operator:otto:otto@ops.example; do
      IFS=: read -r role user email <<<"$member"
      password=$(head -c 15 /dev/urandom | base64 | tr '+/' '-_')
      echo "$password" | "$bin/tools/cli/gatehouse" staff --file "$run_dir/staff" add --email "$email" \
        --role "$role" --user "$user" >/dev/null
      printf '%-20s %-14s %s\n' "$email" "$role" "$password" >>"$run_dir/staff-passwords"
    done
  fi
  rm -f "$run_dir/web.out"
  env GATEHOUSE_WEB_LISTEN="127.0.0.1:$web_port" \
    GATEHOUSE_SERVICES_ONBOARDING="127.0.0.1:$(grpc_port onboarding)" \
    GATEHOUSE_SERVICES_CUSTOMERS="127.0.0.1:$(grpc_port customers)" \
    GATEHOUSE_SERVICES_SALES="127.0.0.1:$(grpc_port sales-bridge)" \
    GATEHOUSE_SERVICES_NOTIFIER="127.0.0.1:$(grpc_port notifier)" \
    GATEHOUSE_WEB_STAFF_FILE="$run_dir/staff" GATEHOUSE_WEB_GATEWAY_TOKEN="$(token gateway)" \
    nohup "$bin/services/web/gatehouse-web" >"$run_dir/web.out" 2>"$run_dir/web.log" &
  echo $! >"$run_dir/web.pid"
  for _ in $(seq 1 100); do grep -q "web ready http=" "$run_dir/web.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "web ready http=" "$run_dir/web.out" || { echo "run: web did not start; see $run_dir/web.log" >&2; exit 1; }
  echo "web on http://127.0.0.1:$web_port (log: $run_dir/web.log)"
fi
web_url="http://127.0.0.1:$(sed -n 's/.*web ready http=\([0-9]*\).*/\1/p' "$run_dir/web.out" | tail -1)"
export GATEHOUSE_ONBOARDING_ADDR=127.0.0.1:$(grpc_port onboarding)
export GATEHOUSE_CUSTOMERS_ADDR=127.0.0.1:$(grpc_port customers)
export GATEHOUSE_SALES_ADDR=127.0.0.1:$(grpc_port sales-bridge)
export GATEHOUSE_NOTIFIER_ADDR=127.0.0.1:$(grpc_port notifier)
cli=$bin/tools/cli/gatehouse

# Waits (up to 60 s) until the file transport has written an email whose text matches $1 (and $2,
# if given); prints its path.
wait_for_email() {
  for _ in $(seq 1 600); do
    local file
    file=$(grep -l -- "$1" "$run_dir"/outbox/*.eml 2>/dev/null | { if [[ -n ${2:-} ]]; then xargs -r grep -l -- "$2"; else cat; fi; } | head -1 || true)
    [[ -n $file ]] && { echo "$file"; return 0; }
    sleep 0.1
  done
  echo "run: no email matching $1 arrived; see $run_dir/notifier.log" >&2
  return 1
}
# The decoded text part and the token of the first link in an .eml file.
email_text() {
  python3 -c 'import email,email.policy,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default);
print("To:", m["To"]); print("Subject:", m["Subject"]); print(); print(m.get_body(("plain",)).get_content().rstrip())' "$1"
}
link_token() {
  python3 -c 'import email,email.policy,re,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default);
print(re.search(r"token=([A-Za-z0-9_-]+)", m.get_body(("plain",)).get_content()).group(1))' "$1"
}
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

suffix=$(date +%s)
company="Acme GmbH $suffix"
requester="jane.$suffix@acme.example"

step "1. a prospect submits a request (anonymous, as the storefront would)"
out=$(show request submit --company "$company" --street "Hauptstrasse 1" --city Berlin --postal-code 10115 \
  --country DE --phone "+49 30 1234567" --tax-id DE136695976 --first-name Jane --last-name Doe \
  --email "$requester" --contact-phone "+49 30 7654321" --job-title "Purchasing manager" \
  --idempotency-key "demo-$suffix")
echo "$out"
number=$(echo "$out" | sed -n 's/^request \(PR-[0-9]*\) submitted.*/\1/p')

step "a bad request gets a clear error naming the field"
show request submit --company Acme --street x --city y --postal-code 1 --country XX --phone 123 \
  --first-name J --last-name D --email jane --contact-phone 1 --job-title t || true

step "2. the confirmation email (German: the company is in DE) and the requester confirms"
mail=$(wait_for_email "$number")
echo "email written: $mail"
email_text "$mail" | sed 's/^/    | /'
show request verify "$number" "$(link_token "$mail")"

step "3. the verified request became a lead in the sales bridge (\"All commerce B2B leads\")"
export GATEHOUSE_TOKEN; GATEHOUSE_TOKEN=$(token sales)
lead=""
for _ in $(seq 1 300); do
  lead=$("$cli" --json leads list --text "$requester" | json_field '["leads"][0]["leadId"]' 2>/dev/null || true)
  [[ -n $lead ]] && break
  sleep 0.1
done
[[ -n $lead ]] || { echo "run: no lead for $number; see $run_dir/sales-bridge.log" >&2; exit 1; }
show leads list --text "$requester"

step "4. sales qualifies the lead: opportunity, account and contact (replicated to customers)"
out=$(show --json leads qualify "$lead" --value 25000.00 --close-date 2026-12-31)
echo "$out"
opportunity=$(echo "$out" | sed -n '/^{/,$p' | json_field '["opportunityId"]')

step "5. the opportunity is won: the prospect is approved"
show opportunities win "$opportunity"
export GATEHOUSE_TOKEN; GATEHOUSE_TOKEN=$(token hq)
for _ in $(seq 1 300); do
  "$cli" request status "$number" "$requester" | grep -q Approved && break
  sleep 0.1
done
show request status "$number" "$requester"

step "6. customers: the organization and the requester (B2B admin) from the CRM, and the hierarchy"
organization=""
for _ in $(seq 1 300); do
  organization=$("$cli" --json customers list --text "$company" --type organization |
    json_field '["customers"][0]["customerId"]' 2>/dev/null || true)
  [[ -n $organization ]] && "$cli" hierarchies list --organization "$organization" 2>/dev/null | grep -q . && break
  sleep 0.1
done
show customers list --text "$suffix"
show hierarchies list --organization "$organization"

step "7. the welcome email; the admin sets a password and signs in"
mail=$(wait_for_email "To: $requester" "set-password")  # this run's (the outbox keeps earlier runs' mail)
echo "email written: $mail"
email_text "$mail" | sed 's/^/    | /'
printf '$ gatehouse set-password --token …   (password read from stdin)\n'
echo "correct horse battery staple $suffix" | "$cli" set-password --token "$(link_token "$mail")"
printf '$ gatehouse sign-in --email %s   (password read from stdin)\n' "$requester"
session=$(echo "correct horse battery staple $suffix" | "$cli" sign-in --email "$requester")
echo "signed in; session token ${session:0:6}…"

step "8. the admin adds a user to the partner; the user gets an invitation"
GATEHOUSE_TOKEN=$session show users add --email "john.$suffix@acme.example" --first-name John --last-name Roe \
  --job-title Buyer
mail=$(wait_for_email "john.$suffix@acme.example")
echo "email written: $mail"
GATEHOUSE_TOKEN=$session show users list

step "9. every email the notifier wrote (file transport)"
GATEHOUSE_TOKEN=$(token operator) show notifications list

cat <<TXT

The platform keeps running. Continue in the browser: $web_url
  - the story's partner: sign in at $web_url/sign-in as $requester, password "correct horse battery staple $suffix"
  - a new prospect: $web_url/partner; the emails (with their links) are in $run_dir/outbox
  - the back office: $web_url/office/sign-in as (email, role, password; also in $run_dir/staff-passwords):
$(sed 's/^/      /' "$run_dir/staff-passwords")

Or with the CLI:

  export GATEHOUSE_ONBOARDING_ADDR=$GATEHOUSE_ONBOARDING_ADDR GATEHOUSE_CUSTOMERS_ADDR=$GATEHOUSE_CUSTOMERS_ADDR
  export GATEHOUSE_SALES_ADDR=$GATEHOUSE_SALES_ADDR GATEHOUSE_NOTIFIER_ADDR=$GATEHOUSE_NOTIFIER_ADDR
  export GATEHOUSE_TOKEN=\$(cat $run_dir/hq-token)      # or sales-token, operator-token
  $cli --help
  $cli prospects show $number
  $cli tail onboarding sales customers --bootstrap $(cat "$run_dir/bootstrap") --from-beginning --max 20
  ls $run_dir/outbox                                    # the emails, one .eml each

Stop everything with: scripts/run.sh stop
TXT
