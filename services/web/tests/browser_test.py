#!/usr/bin/python3
"""The web front door in a real headless Chromium, against the real processes.

  browser_test.py --bin BUILD_DIR --source SOURCE_DIR [--screenshots DIR]

Starts the embedded Kafka broker (gatehouse-mock-broker), the real SMTP sink
(tests/support/smtp_sink.py), the four services and gatehouse-web on free loopback ports, then
plays the partner's story through pages only: sign up, open the confirmation link from the email,
(HQ approves with the gatehouse CLI: the back office is not built yet), open the set-password link
from the welcome email, sign in, add a user, sign out; and checks that a form without its CSRF token
is refused, that a partner cannot reach another partner's users by changing an id, and that a
non-admin sees no admin actions and cannot post them. Saves a PNG of each page (--screenshots, for
docs/web.md). Every process is stopped by pid at the end, pass or fail.
"""
import argparse
import glob
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

DEADLINE = 60  # seconds any one condition may take
HQ_TOKEN = "web-test-hq-token-0123456789abcdef"
OPERATOR_TOKEN = "web-test-operator-token-0123456789ab"
SALES_TOKEN = "web-test-sales-token-0123456789abcd"


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)
    print("ok -", what, flush=True)


def wait_for(condition, what, deadline=DEADLINE):
    """Polls condition() until it returns something truthy or the deadline passes."""
    try:
        # Selenium's wait polls any condition, not only a page's (the driver argument is unused).
        return WebDriverWait(None, deadline, poll_frequency=0.05).until(lambda _: condition())
    except TimeoutException:
        raise Failure("timed out waiting for " + what) from None


class Platform:
    """The broker, the SMTP sink, the four services and the web service, each a child process."""

    def __init__(self, bin_dir, source_dir, work):
        self.bin = bin_dir
        self.source = source_dir
        self.work = work
        self.processes = []

    def start(self, name, argv, env, ready):
        out = open(os.path.join(self.work, name + ".out"), "w+")
        process = subprocess.Popen(argv, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append((name, process))
        if ready is None:
            return None

        def matched():
            if process.poll() is not None:
                out.seek(0)
                raise Failure(name + " ended at start-up:\n" + out.read()[-3000:])
            out.seek(0)
            found = re.search(ready, out.read())
            return found.group(1) if found else None

        return wait_for(matched, name + " to be ready")

    def stop(self):
        """In reverse order of start, each ended before the next (the services flush to the broker)."""
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print("%s did not stop on SIGTERM within 20 s: killed" % name, flush=True)
                process.kill()
                process.wait()

    def up(self):
        keys = dict(line.split("=", 1) for line in subprocess.run(
            [self.bin + "/tools/keygen/gatehouse-keygen"], check=True, capture_output=True,
            text=True).stdout.split())
        bootstrap_file = os.path.join(self.work, "bootstrap")
        topics = []
        for topic in ("onboarding", "customers", "sales", "notifier"):
            topics += ["--topic", "gatehouse.%s.events.v1:3" % topic]
        for service in ("onboarding", "customers", "sales-bridge", "notifier"):
            topics += ["--topic", "gatehouse.%s.dead-letters.v1:1" % service]
        self.start("mock-broker", [self.bin + "/tools/mock-broker/gatehouse-mock-broker", *topics,
                                   "--bootstrap-file", bootstrap_file], {}, None)
        bootstrap = wait_for(lambda: os.path.exists(bootstrap_file) and open(bootstrap_file).read().strip(),
                             "the broker's bootstrap file")
        self.mail_dir = os.path.join(self.work, "mail")
        os.makedirs(self.mail_dir)
        smtp_port = self.start("smtp-sink", ["/usr/bin/python3", self.source + "/tests/support/smtp_sink.py",
                                             "--dir", self.mail_dir], {}, r"smtp-sink ready port=(\d+)")
        common = {
            "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "GATEHOUSE_GRPC_LISTEN": "127.0.0.1:0",
            "GATEHOUSE_LOG_LEVEL": "warn",
            "GATEHOUSE_NOTIFIER_PUBLIC_KEY": keys["GATEHOUSE_NOTIFIER_PUBLIC_KEY"],
            # The web service is the services' trusted proxy: limits key on the browser's address.
            "GATEHOUSE_GRPC_TRUSTED_PROXIES": "127.0.0.1",
        }

        def service(name, binary, extra):
            env = {**common, "GATEHOUSE_DATA_DIR": os.path.join(self.work, "data", name), **extra}
            return self.start(name, [self.bin + "/services/" + name + "/" + binary], env,
                              r"ready grpc=(\d+)")

        self.onboarding = service("onboarding", "gatehouse-onboarding", {
            "GATEHOUSE_ONBOARDING_APPROVAL_MODE": "direct",
            "GATEHOUSE_AUTH_TOKENS": HQ_TOKEN + "=hq:hilda:hilda@hq.example"})
        self.customers = service("customers", "gatehouse-customers", {
            "GATEHOUSE_AUTH_TOKENS": HQ_TOKEN + "=hq:hilda:hilda@hq.example," + OPERATOR_TOKEN +
            "=operator:otto:otto@ops.example"})
        service("sales-bridge", "gatehouse-sales-bridge", {
            "GATEHOUSE_AUTH_TOKENS": SALES_TOKEN + "=sales-manager:sam:sam@sales.example"})
        web_port = self.start("web", [self.bin + "/services/web/gatehouse-web"], {
            "GATEHOUSE_WEB_LISTEN": "127.0.0.1:0",
            "GATEHOUSE_SERVICES_ONBOARDING": "127.0.0.1:" + self.onboarding,
            "GATEHOUSE_SERVICES_CUSTOMERS": "127.0.0.1:" + self.customers}, r"web ready http=(\d+)")
        self.web = "http://127.0.0.1:" + web_port
        service("notifier", "gatehouse-notifier", {
            "GATEHOUSE_NOTIFIER_SECRET_KEY": keys["GATEHOUSE_NOTIFIER_SECRET_KEY"],
            "GATEHOUSE_EMAIL_TRANSPORT": "smtp",
            "GATEHOUSE_SMTP_URL": "smtp://127.0.0.1:" + smtp_port,
            "GATEHOUSE_SMTP_TLS": "none",
            "GATEHOUSE_LINKS_BASE_URL": self.web,
            "GATEHOUSE_DELIVERY_POLL_INTERVAL": "50ms",
            "GATEHOUSE_AUTH_TOKENS": OPERATOR_TOKEN + "=operator:otto:otto@ops.example"})

    def link_in_email(self, address, path):
        """The first link to `path` in an email received for `address`."""
        def find():
            for name in sorted(glob.glob(os.path.join(self.mail_dir, "*.json"))):
                message = json.load(open(name))
                if address in message.get("rcpt_tos", []):
                    found = re.search(re.escape(self.web + path) + r"\?[^\s\"<>]+", message.get("text") or "")
                    if found:
                        return found.group(0)
            return None
        return wait_for(find, "an email to %s with a %s link" % (address, path))

    def cli(self, *args):
        env = {**os.environ, "GATEHOUSE_ONBOARDING_ADDR": "127.0.0.1:" + self.onboarding,
               "GATEHOUSE_CUSTOMERS_ADDR": "127.0.0.1:" + self.customers, "GATEHOUSE_TOKEN": HQ_TOKEN}
        result = subprocess.run([self.bin + "/tools/cli/gatehouse", *args], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise Failure("gatehouse %s: %s%s" % (" ".join(args), result.stdout, result.stderr))
        return result.stdout


class Browser:
    def __init__(self, platform, shots):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900",
                         "--lang=en-US"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.platform = platform
        self.shots = shots

    def open(self, path_or_url):
        self.driver.get(path_or_url if path_or_url.startswith("http") else self.platform.web + path_or_url)

    def shot(self, name):
        if self.shots:
            # The whole page: as tall as its content.
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(1000, max(600, min(height + 20, 3000)))
            self.driver.save_screenshot(os.path.join(self.shots, name + ".png"))
            self.driver.set_window_size(1000, 900)

    def fill(self, values):
        for name, value in values.items():
            def typed():
                try:
                    element = self.find(By.NAME, name)
                    element.clear()
                    element.send_keys(value)
                    return True
                except WebDriverException:
                    return False  # the page was still being replaced: find the input again
            wait_for(typed, "the input %s on %s" % (name, self.driver.current_url))

    def click(self, by, value):
        """Clicks and waits for the next page (the old one's elements gone stale)."""
        old = self.find(By.TAG_NAME, "html")

        def clicked():
            try:
                self.find(by, value).click()
                return True
            except WebDriverException:
                return False  # the page was still being replaced: find the element again
        wait_for(clicked, "a click on %s %s" % (by, value))

        def replaced():
            # Selenium's staleness_of expects StaleElementReferenceException only; Chromium may
            # instead say "Node with given id does not belong to the document": gone as well.
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True
        wait_for(replaced, "the page after a click on %s %s" % (by, value))

    def submit(self):
        self.click(By.CSS_SELECTOR, "main form button[type=submit]")

    def find(self, by, value):
        """The element, once the page that has it is loaded."""
        return wait_for(lambda: self.driver.find_elements(by, value), "%s %s on %s" % (
            by, value, self.driver.current_url))[0]

    def read(self, by, value, what=lambda element: element.text):
        """what(element) of the element, once the page that has it is loaded and holds still."""
        def attempt():
            try:
                return (what(self.find(by, value)),)
            except WebDriverException:
                return None  # the page was still being replaced: find the element again
        return wait_for(attempt, "%s %s on %s" % (by, value, self.driver.current_url))[0]

    def text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "main").text
        except WebDriverException:
            # Between two pages: stale, not there yet, or (Chromium) "Node with given id does not
            # belong to the document" while the old document is replaced.
            return ""

    def wait_text(self, text):
        return wait_for(lambda: text in self.text(), "the page to say " + repr(text))

    def cookie(self, name):
        found = self.driver.get_cookie(name)
        return found["value"] if found else None

    def quit(self):
        self.driver.quit()


def post(platform, path, fields, cookies):
    """A plain HTTP POST, as a forger or a script would send it: (status, body)."""
    connection = http.client.HTTPConnection(platform.web[len("http://"):], timeout=DEADLINE)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join("%s=%s" % item for item in cookies.items())}
    connection.request("POST", path, urllib.parse.urlencode(fields), headers)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body


def sign_up(browser, company, email, screenshots=False):
    browser.open("/partner")
    if screenshots:
        browser.shot("01-become-a-partner")
    values = {"company.name": company, "company.address.street": "Hauptstraße 1",
              "company.address.postal_code": "10115", "company.address.city": "Berlin",
              "company.address.country_code": "DE", "company.phone": "+49 30 1234567",
              "contact.first_name": "Anna", "contact.last_name": "Schmidt", "contact.email": "not-an-email",
              "contact.job_title": "Purchasing", "contact.phone": "+49 30 7654321"}
    browser.fill(values)
    browser.submit()
    if screenshots:
        # The API's INVALID_ARGUMENT "contact.email: ..." on the email input and in the summary.
        check("Your email" in browser.read(By.ID, "error-summary"),
              "a failed form has an error summary naming the field")
        check("email address" in browser.read(By.ID, "f-contact-email-error"), "the email input shows the API's rule")
        check(browser.read(By.ID, "f-company-name", lambda element: element.get_attribute("value")) == company,
              "a failed form keeps what was entered")
        browser.shot("02-become-a-partner-errors")
    browser.fill({"contact.email": email})
    browser.submit()
    number = browser.read(By.ID, "request-number")
    check(re.match(r"^\S+$", number) is not None, "the request received page shows request number " + number)
    if screenshots:
        browser.shot("03-request-received")
    link = browser.platform.link_in_email(email, "/verify")
    browser.open(link)
    if screenshots:
        browser.shot("04-confirm-email")
    browser.click(By.ID, "confirm")
    status = browser.read(By.ID, "request-status")
    check("Pending" in status, "the emailed link confirms the email: " + status)
    if screenshots:
        browser.shot("05-email-confirmed")
        # A link that does not work (wrong or expired token) offers a new one.
        browser.open("/verify?request=%s&token=%s" % (urllib.parse.quote(number), "x" * 43))
        browser.click(By.ID, "confirm")
        browser.wait_text("does not work any more")
        browser.shot("06-link-failed")
        browser.fill({"email": email})
        browser.submit()
        browser.wait_text("a new link is on its way")
        print("ok - a link that does not work offers a new one, sent by ResendVerification", flush=True)
    browser.platform.cli("prospects", "approve", number, "--yes")
    return number


def set_password_and_sign_in(browser, email, password, screenshots=False):
    link = browser.platform.link_in_email(email, "/set-password")
    browser.open(link)
    if screenshots:
        check("at least 12 characters" in browser.text(), "the password rules are shown")
        browser.fill({"password": "short", "password_confirm": "short"})
        browser.submit()
        check(browser.driver.find_elements(By.ID, "f-password-error"), "a too short password is refused on its input")
        browser.shot("07-set-password-errors")
    browser.fill({"password": password, "password_confirm": password})
    browser.submit()
    browser.wait_text("You can sign in now")
    if screenshots:
        browser.shot("08-password-set")
    browser.open("/sign-in")
    if screenshots:
        browser.shot("09-sign-in")
    browser.fill({"email": email, "password": password})
    browser.submit()
    wait_for(lambda: browser.driver.current_url.endswith("/account"), "My Account after signing in")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--screenshots", default="")
    args = parser.parse_args()
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="gatehouse-web-test-")
    platform = Platform(args.bin, args.source, work)
    browsers = []
    try:
        platform.up()
        anna = Browser(platform, args.screenshots)
        browsers.append(anna)
        anna.open("/")
        check("Become a partner" in anna.text(), "the home page, in English for an English browser")
        anna.shot("00-home")
        anna.open("/?lang=de")
        check("Partner werden" in anna.text(), "the language switch shows German")
        anna.shot("00-home-de")
        anna.open("/?lang=en")

        # Security headers on every response.
        connection = http.client.HTTPConnection(platform.web[len("http://"):], timeout=DEADLINE)
        connection.request("GET", "/partner")
        response = connection.getresponse()
        response.read()
        csp = response.getheader("Content-Security-Policy") or ""
        check("default-src 'self'" in csp and "frame-ancestors 'none'" in csp, "the pages send a CSP: " + csp)
        check(response.getheader("X-Content-Type-Options") == "nosniff", "X-Content-Type-Options: nosniff")
        check(response.getheader("Referrer-Policy") == "no-referrer", "Referrer-Policy: no-referrer")
        cookie = response.getheader("Set-Cookie") or ""
        check("HttpOnly" in cookie and "SameSite=Strict" in cookie, "the CSRF cookie is HttpOnly, SameSite=Strict")
        connection.close()

        # The story: sign up, confirm, (HQ approves), set the password, sign in, add a user.
        suffix = str(int(time.time() * 1000))
        anna_email = "anna.%s@acme.example" % suffix
        sign_up(anna, "Acme Tools GmbH", anna_email, screenshots=True)
        set_password_and_sign_in(anna, anna_email, "correct horse battery staple", screenshots=True)
        check("Acme Tools GmbH" in anna.text(), "My Account shows the organisation")
        anna.shot("10-my-account")
        session = anna.cookie("gh_session")
        check(session is not None, "signing in sets the session cookie")
        check(next(c for c in anna.driver.get_cookies() if c["name"] == "gh_session")["httpOnly"],
              "the session cookie is HttpOnly")
        anna.open("/account/users")
        check(anna_email in anna.text() and "Administrator" in anna.text(), "the users list shows the administrator")
        check(not anna.driver.find_elements(By.CSS_SELECTOR, "a.remove"), "the administrator cannot remove herself")
        tom_email = "tom.%s@acme.example" % suffix
        anna.fill({"email": tom_email, "first_name": "Tom", "last_name": "Berg", "job_title": "Buyer"})
        anna.submit()
        anna.wait_text("Invitation sent to " + tom_email)
        check(tom_email in anna.read(By.ID, "users"), "the new user is listed")
        anna.shot("11-organization-users")
        remove_link = anna.read(By.CSS_SELECTOR, "a.remove", lambda element: element.get_attribute("href"))
        tom_id = urllib.parse.parse_qs(urllib.parse.urlparse(remove_link).query)["user"][0]
        anna.open(remove_link)
        check("Tom Berg" in anna.text(), "removing asks for a confirmation first")
        anna.shot("12-remove-user-confirmation")
        anna.click(By.LINK_TEXT, "Cancel")

        # CSRF: a POST without the form's token is refused, with the cookie or without.
        csrf = anna.cookie("gh_csrf")
        status, _ = post(platform, "/account/users/add", {"email": "x@acme.example", "first_name": "X",
                                                          "last_name": "Y"}, {"gh_session": session})
        check(status == 403, "a POST without CSRF cookie and token is refused 403")
        status, _ = post(platform, "/account/users/add", {"email": "x@acme.example", "first_name": "X",
                                                          "last_name": "Y"},
                         {"gh_session": session, "gh_csrf": csrf, "gh_org": anna.cookie("gh_org")})
        check(status == 403, "a POST with the cookie but without the form's token is refused 403")
        status, _ = post(platform, "/account/users/add", {"email": "x@acme.example", "first_name": "X",
                                                          "last_name": "Y", "csrf": "0" * 64},
                         {"gh_session": session, "gh_csrf": csrf, "gh_org": anna.cookie("gh_org")})
        check(status == 403, "a POST with a wrong token is refused 403")
        anna.open("/account/users")
        check("x@acme.example" not in anna.text(), "no refused POST added a user")

        # Another partner cannot reach Acme's users by changing the id in the URL, nor remove them.
        bob = Browser(platform, "")
        browsers.append(bob)
        bob_email = "bob.%s@globex.example" % suffix
        sign_up(bob, "Globex Trading AG", bob_email)
        set_password_and_sign_in(bob, bob_email, "another correct horse battery")
        bob.open("/account/users/remove?user=" + urllib.parse.quote(tom_id))
        check("Not found" in bob.text() and "Tom" not in bob.text(), "Globex's admin cannot open Acme's user")
        bob.open("/account/users")
        check(tom_email not in bob.text(), "Globex's users list does not show Acme's users")
        status, body = post(platform, "/account/users/remove", {"user": tom_id, "csrf": bob.cookie("gh_csrf")},
                            {"gh_session": bob.cookie("gh_session"), "gh_csrf": bob.cookie("gh_csrf"),
                             "gh_org": bob.cookie("gh_org")})
        check(status in (403, 404), "Globex's admin posting Acme's user id is refused (%d)" % status)
        status, body = post(platform, "/account/users/remove", {"user": tom_id, "csrf": bob.cookie("gh_csrf")},
                            {"gh_session": bob.cookie("gh_session"), "gh_csrf": bob.cookie("gh_csrf"),
                             "gh_org": anna.cookie("gh_org")})
        check(status in (403, 404), "... also with Acme's organisation id put in the cookie (%d)" % status)
        anna.open("/account/users")
        check(tom_email in anna.text(), "Acme's user is still there")

        # The new user (not an administrator) sets a password from the invitation and signs in.
        tom = Browser(platform, "")
        browsers.append(tom)
        set_password_and_sign_in(tom, tom_email, "tom's own long passphrase")
        tom.open("/account/users")
        check(tom.driver.find_elements(By.ID, "not-admin"), "a non-admin is told the administrator manages users")
        check(not tom.driver.find_elements(By.ID, "add-user-form") and not tom.driver.find_elements(
            By.CSS_SELECTOR, "a.remove"), "a non-admin sees no add or remove action")
        if args.screenshots:
            tom.shots = args.screenshots
            tom.shot("13-users-as-non-admin")
        tom_cookies = {"gh_session": tom.cookie("gh_session"), "gh_csrf": tom.cookie("gh_csrf"),
                       "gh_org": tom.cookie("gh_org")}
        status, _ = post(platform, "/account/users/add", {"email": "y@acme.example", "first_name": "Y",
                                                          "last_name": "Z", "csrf": tom.cookie("gh_csrf")},
                         tom_cookies)
        check(status == 403, "a non-admin posting an add is refused 403 by the service")
        status, _ = post(platform, "/account/users/remove", {"user": tom_id, "csrf": tom.cookie("gh_csrf")},
                         tom_cookies)
        check(status == 403, "a non-admin posting a remove is refused 403")

        # Anna removes Tom, with the confirmation, then signs out.
        anna.open(remove_link)
        anna.click(By.ID, "confirm-remove")
        anna.wait_text("The user was removed.")
        anna.click(By.ID, "sign-out")
        wait_for(lambda: anna.driver.current_url.rstrip("/") == platform.web, "the home page after signing out")
        check(anna.cookie("gh_session") is None, "signing out deletes the session cookie")
        anna.open("/account")
        check(anna.driver.current_url.endswith("/sign-in"), "after signing out My Account asks to sign in")
        connection = http.client.HTTPConnection(platform.web[len("http://"):], timeout=DEADLINE)
        connection.request("GET", "/account", headers={"Cookie": "gh_session=%s; gh_org=%s" % (
            session, bob.cookie("gh_org"))})
        response = connection.getresponse()
        response.read()
        connection.close()
        check(response.status == 303 and response.getheader("Location") == "/sign-in",
              "the signed-out session token no longer opens My Account")
        # The phone: the users page at 390 px wide reads without sideways scrolling of the page.
        bob.driver.set_window_size(390, 844)
        bob.open("/account")
        if args.screenshots:
            bob.driver.save_screenshot(os.path.join(args.screenshots, "14-my-account-phone.png"))
        width = bob.driver.execute_script("return document.documentElement.scrollWidth")
        check(width <= bob.driver.execute_script("return window.innerWidth"), "pages fit a phone's width")
        print("browser suite passed in %.1f s" % (time.monotonic() - started), flush=True)
        return 0
    except Exception as failure:  # noqa: BLE001 -- any failure: show the processes' output
        print("FAILED:", type(failure).__name__, failure, flush=True)
        for browser in browsers:
            print("--- page %s ---\n%s" % (browser.driver.current_url, browser.driver.page_source[-1500:]))
        for name in ("web", "onboarding", "customers", "notifier"):
            path = os.path.join(work, name + ".out")
            if os.path.exists(path):
                print("--- %s output (last lines) ---\n%s" % (name, open(path).read()[-2000:]))
        return 1
    finally:
        for browser in browsers:
            browser.quit()
        platform.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
