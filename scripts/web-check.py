#!/usr/bin/env python3
"""A plain HTTP check of the web front door, as a script (no browser; as
services/web/tests/browser_support.py does it), for the container tests.

  scripts/web-check.py URL home
      GET / answers 200 with a page.
  scripts/web-check.py URL office EMAIL NUMBER        (the staff member's password on stdin)
      GET /office/sign-in (the CSRF cookie and the form's hidden field), POST it with the email and
      password (303 and a gh_staff session cookie), then GET /office/prospects lists request NUMBER.

Prints one line of what it saw; exits 1 with the reason on stderr when a step answers otherwise.
"""
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from form_http import form_request  # noqa: E402


if len(sys.argv) < 3 or sys.argv[2] not in ("home", "office"):
    sys.exit(__doc__)
base, what = sys.argv[1], sys.argv[2]
host = urllib.parse.urlsplit(base).netloc


def request(method, path, fields=None, cookies=None):
    return form_request(host, method, path, fields, cookies)


def cookie(headers, name):
    for value in headers.get_all("Set-Cookie") or []:
        found = re.match(re.escape(name) + r"=([^;]+)", value)
        if found:
            return found.group(1)
    return None


def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)


if what == "home":
    status, headers, body = request("GET", "/")
    if status != 200 or "<html" not in body.lower():
        fail("GET / answered %d" % status)
    print("GET / 200 (%d bytes, %s)" % (len(body), headers.get("Content-Type")))
    sys.exit(0)

email, number = sys.argv[3], sys.argv[4]
password = sys.stdin.readline().rstrip("\n")
status, headers, body = request("GET", "/office/sign-in")
csrf_cookie = cookie(headers, "gh_csrf")
field = re.search(r'name="csrf" value="([^"]+)"', body)
if status != 200 or not csrf_cookie or not field or field.group(1) != csrf_cookie:
    fail("GET /office/sign-in answered %d without a matching CSRF cookie and field" % status)
status, headers, body = request("POST", "/office/sign-in",
                                {"email": email, "password": password, "csrf": field.group(1),
                                 "next": "/office/prospects"}, {"gh_csrf": csrf_cookie})
session = cookie(headers, "gh_staff")
if status != 303 or not session:
    fail("POST /office/sign-in answered %d%s" % (status, "" if session else " without a staff session"))
status, headers, body = request("GET", "/office/prospects",
                                cookies={"gh_staff": session, "gh_csrf": csrf_cookie})
row = re.search(r'<tr data-request="%s">.*?class="prospect-status">([^<]*)<' % re.escape(number), body, re.S)
if status != 200 or not row:
    fail("GET /office/prospects answered %d without a row for %s" % (status, number))
print("signed in (303, gh_staff cookie); /office/prospects 200 lists %s: %s" % (number, row.group(1)))
