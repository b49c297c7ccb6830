#!/usr/bin/env bash
# Runs the README's run command in a scratch directory and checks what it shows the user; always
# stops what it started (by pid) and checks that nothing is left running.
set -euo pipefail
root=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
export GATEHOUSE_RUN_DIR=${1:?usage: run_command_test.sh RUN_DIR}
rm -rf "$GATEHOUSE_RUN_DIR"
trap '"$root/scripts/run.sh" stop >/dev/null 2>&1 || true' EXIT
output=$("$root/scripts/run.sh" 2>&1) || { echo "$output"; echo "FAIL: run.sh exited non-zero"; exit 1; }
echo "$output"
fail=0
expect() {
  if ! grep -qE -- "$1" <<<"$output"; then
    echo "FAIL: the run command did not show: $1"
    fail=1
  fi
}
expect "broker on 127\.0\.0\.1:[0-9]+"
for service in onboarding customers sales-bridge notifier; do
  expect "$service on 127\.0\.0\.1:[0-9]+"
done
expect "request PR-[0-9]{6} submitted; status AwaitingVerification"
expect "error: INVALID_ARGUMENT: company.address.country_code"
expect "Subject: Ihre Partneranfrage PR-[0-9]{6}"
expect "email confirmed; request PR-[0-9]{6} is Pending"
expect "^LEAD-[A-Z0-9-]+ +Open"
expect "OPP-[A-Z0-9-]+: Won"
expect "PR-[0-9]{6}: Approved"
expect "Organization +Acme GmbH"
expect "Person +Jane Doe"
expect "Subject: Welcome, Acme GmbH [0-9]+: your partner account is ready"
expect "password set"
expect "signed in; session token"
expect "invitation sent to john"
expect "partner_user_invitation"
expect "3 of 3 shown"
expect "web on http://127\.0\.0\.1:[0-9]+"
expect "Continue in the browser: http://127\.0\.0\.1:[0-9]+"
expect "hilda@hq\.example +hq +[A-Za-z0-9_-]{20}"
# The story continues in the browser: the emails link to the web service, HQ signs in to the back
# office with the printed password and finds the story's request among All prospects.
web=$(sed -n 's/^web on \(http:[^ ]*\).*/\1/p' <<<"$output")
number=$(sed -n 's/^request \(PR-[0-9]*\) submitted.*/\1/p' <<<"$output" | head -1)
grep -q "$web/verify?" "$GATEHOUSE_RUN_DIR"/outbox/*.eml || { echo "FAIL: the emails do not link to $web"; fail=1; }
python3 - "$web" "$(awk '/^hilda@/ {print $3}' "$GATEHOUSE_RUN_DIR/staff-passwords")" "$number" <<'PY' || fail=1
import http.cookiejar, re, sys, urllib.parse, urllib.request
web, password, number = sys.argv[1:4]
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
page = browser.open(web + "/office/sign-in").read().decode()
csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
form = urllib.parse.urlencode({"csrf": csrf, "email": "hilda@hq.example", "password": password, "next": "/office"})
browser.open(web + "/office/sign-in", form.encode()).read()
prospects = browser.open(web + "/office/prospects").read().decode()
if number not in prospects:
    print("FAIL: HQ signed in to the back office does not see", number)
    sys.exit(1)
print("the back office shows", number, "to HQ signed in with the printed password")
PY
# The emails are files the user can open.
[[ $(ls "$GATEHOUSE_RUN_DIR"/outbox/*.eml | wc -l) == 3 ]] || { echo "FAIL: expected 3 .eml files"; fail=1; }
pids=$(cat "$GATEHOUSE_RUN_DIR"/*.pid)
"$root/scripts/run.sh" stop
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: process $pid is still running after run.sh stop"
    fail=1
  fi
done
[[ $fail == 0 ]] && echo "run command: all checks passed"
exit $fail
