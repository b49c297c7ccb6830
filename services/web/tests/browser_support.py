#!/usr/bin/python3
"""What the browser suites share: the platform (broker, SMTP sink, four services, web service, each
a child process on free loopback ports, stopped by pid) and a headless Chromium driven by Selenium,
with waits on conditions (never fixed sleeps). The staff in STAFF can sign in to the back office.
Also what the stories repeat: run_suite (a suite's main: arguments, platform, failure output, cleanup),
a prospect's sign-up and email confirmation, a partner's password and sign-in, and plain HTTP requests
(http_request, post, staff_cookies) as a script or a forger would send them."""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "support"))
from form_http import form_request  # noqa: E402

DEADLINE = 60  # seconds any one condition may take
HQ_TOKEN = "web-test-hq-token-0123456789abcdef"
OPERATOR_TOKEN = "web-test-operator-token-0123456789ab"
SALES_TOKEN = "web-test-sales-token-0123456789abcd"
# The web service's gateway credential: it calls the services on behalf of signed-in staff.
GATEWAY_TOKEN = "web-test-gateway-token-0123456789ab"
GATEWAY = GATEWAY_TOKEN + "=gateway:web:web@hq.example"
# The back office's staff, signed in through /office/sign-in with these passwords.
STAFF = {
    "hilda@hq.example": ("hq", "hilda", "hilda's long hq passphrase"),
    "sam@sales.example": ("sales-manager", "sam", "sam's long sales passphrase"),
    "sue@sales.example": ("sales", "sue", "sue's long sales passphrase"),
    "otto@ops.example": ("operator", "otto", "otto's long operator passphrase"),
}


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


def free_port():
    """A free loopback port (bound and released: the web service takes it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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

    def up(self, approval_mode="direct"):
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
            "GATEHOUSE_ONBOARDING_APPROVAL_MODE": approval_mode,
            "GATEHOUSE_AUTH_TOKENS": HQ_TOKEN + "=hq:hilda:hilda@hq.example," + GATEWAY})
        self.customers = service("customers", "gatehouse-customers", {
            "GATEHOUSE_AUTH_TOKENS": HQ_TOKEN + "=hq:hilda:hilda@hq.example," + OPERATOR_TOKEN +
            "=operator:otto:otto@ops.example," + GATEWAY})
        self.sales = service("sales-bridge", "gatehouse-sales-bridge", {
            "GATEHOUSE_AUTH_TOKENS": SALES_TOKEN + "=sales-manager:sam:sam@sales.example," + GATEWAY})
        # The notifier starts before the web service (which needs its address); the links it mails
        # name the web service, whose port is chosen first so that both know it.
        web_port = free_port()
        self.web = "http://127.0.0.1:%d" % web_port
        self.notifier = service("notifier", "gatehouse-notifier", {
            "GATEHOUSE_NOTIFIER_SECRET_KEY": keys["GATEHOUSE_NOTIFIER_SECRET_KEY"],
            "GATEHOUSE_EMAIL_TRANSPORT": "smtp",
            "GATEHOUSE_SMTP_URL": "smtp://127.0.0.1:" + smtp_port,
            "GATEHOUSE_SMTP_TLS": "none",
            "GATEHOUSE_LINKS_BASE_URL": self.web,
            "GATEHOUSE_DELIVERY_POLL_INTERVAL": "50ms",
            "GATEHOUSE_AUTH_TOKENS": OPERATOR_TOKEN + "=operator:otto:otto@ops.example," + GATEWAY})
        self.staff_file = os.path.join(self.work, "staff")
        for email, (role, user, password) in STAFF.items():
            subprocess.run([self.bin + "/tools/cli/gatehouse", "staff", "--file", self.staff_file, "add", "--email",
                            email, "--role", role, "--user", user], input=password + "\n", text=True, check=True,
                           capture_output=True)
        self.start("web", [self.bin + "/services/web/gatehouse-web"], {
            "GATEHOUSE_WEB_LISTEN": "127.0.0.1:%d" % web_port,
            "GATEHOUSE_SERVICES_ONBOARDING": "127.0.0.1:" + self.onboarding,
            "GATEHOUSE_SERVICES_CUSTOMERS": "127.0.0.1:" + self.customers,
            "GATEHOUSE_SERVICES_SALES": "127.0.0.1:" + self.sales,
            "GATEHOUSE_SERVICES_NOTIFIER": "127.0.0.1:" + self.notifier,
            "GATEHOUSE_WEB_STAFF_FILE": self.staff_file,
            "GATEHOUSE_WEB_GATEWAY_TOKEN": GATEWAY_TOKEN}, r"web ready http=(\d+)")

    def emails_to(self, address):
        """The texts of the emails received for `address` so far, in arrival order."""
        texts = []
        for name in sorted(glob.glob(os.path.join(self.mail_dir, "*.json"))):
            with open(name) as file:
                message = json.load(file)
            if address in message.get("rcpt_tos", []):
                texts.append(message.get("text") or "")
        return texts

    def _link_pattern(self, path):
        return re.escape(self.web + path) + r"\?[^\s\"<>]+"

    def link_in_email(self, address, path, nth=1):
        """The link to `path` in the nth email received for `address` that has one (in arrival order)."""
        def find():
            links = [found.group(0) for found in (re.search(self._link_pattern(path), text)
                                                  for text in self.emails_to(address)) if found]
            return links[nth - 1] if len(links) >= nth else None
        return wait_for(find, "email number %d to %s with a %s link" % (nth, address, path))

    def links_in_emails(self, address, path):
        """Every link to `path` in the emails received for `address`, oldest email first (no wait)."""
        return [link for text in self.emails_to(address) for link in re.findall(self._link_pattern(path), text)]

    def new_link_in_email(self, address, path, seen):
        """A link to `path` emailed to `address` that is not in `seen` (waits for it)."""
        def find():
            fresh = [link for link in self.links_in_emails(address, path) if link not in seen]
            return fresh[0] if fresh else None
        return wait_for(find, "a new email to %s with a %s link" % (address, path))

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

    def cookies(self, *names):
        """The browser's cookies of these names, to send with http_request or post."""
        return {name: self.cookie(name) for name in names}

    def fits_width(self):
        """Whether the page reads without sideways scrolling (the page's width within the window's)."""
        width = self.driver.execute_script("return document.documentElement.scrollWidth")
        return width <= self.driver.execute_script("return window.innerWidth")

    def quit(self):
        self.driver.quit()

    def staff_sign_in(self, email):
        """Signs a member of STAFF in to the back office."""
        self.open("/office/sign-in")
        self.fill({"email": email, "password": STAFF[email][2]})
        self.submit()
        wait_for(lambda: "/office" in self.driver.current_url and "/sign-in" not in self.driver.current_url,
                 "the back office after %s signed in" % email)


def http_request(platform, method, path, fields=None, cookies=None):
    """A plain HTTP request to the web service, as a forger or a script would send it (no redirects
    followed): (status, headers, body). fields are sent form-encoded; headers is the response's
    http.client.HTTPMessage (headers.get("Location"), headers.get_all("Set-Cookie"))."""
    return form_request(platform.web[len("http://"):], method, path, fields, cookies, timeout=DEADLINE)


def post(platform, path, fields, cookies):
    """A plain HTTP POST, as a forger or a script would send it: (status, body)."""
    status, _, body = http_request(platform, "POST", path, fields, cookies)
    return status, body


def staff_cookies(platform, email):
    """A member of STAFF signed in through /office/sign-in by a script (no browser): the cookies to send."""
    csrf = "c" * 64
    status, headers, _ = http_request(platform, "POST", "/office/sign-in", {
        "email": email, "password": STAFF[email][2], "csrf": csrf, "next": "/office"}, {"gh_csrf": csrf})
    session = None
    for value in headers.get_all("Set-Cookie") or []:
        found = re.match(r"gh_staff=([^;]+)", value)
        if found:
            session = found.group(1)
    check(status == 303 and session, "%s signs in (without a browser)" % email)
    return {"gh_staff": session, "gh_csrf": csrf}


# Where the prospects in the stories are: (street, postal code, city, phone area code).
BERLIN = ("Hauptstraße 1", "10115", "Berlin", "+49 30")
HAMBURG = ("Hafenstraße 7", "20457", "Hamburg", "+49 40")


def partner_form(company, email, first_name="Anna", last_name="Schmidt", place=BERLIN):
    """The values of the /partner form."""
    street, postal_code, city, area = place
    return {"company.name": company, "company.address.street": street,
            "company.address.postal_code": postal_code, "company.address.city": city,
            "company.address.country_code": "DE", "company.phone": area + " 1234567",
            "contact.first_name": first_name, "contact.last_name": last_name, "contact.email": email,
            "contact.job_title": "Purchasing", "contact.phone": area + " 7654321"}


def request_received(browser, company):
    """The request number on the page after a /partner form was accepted."""
    number = browser.read(By.ID, "request-number")
    check(re.match(r"^\S+$", number) is not None,
          "the request received page shows %s's request number %s" % (company, number))
    return number


def sign_up(browser, company, email, **contact):
    """Asks to become a partner through /partner (contact: partner_form's names and place): the
    request number. The email is not confirmed yet."""
    browser.open("/partner")
    browser.fill(partner_form(company, email, **contact))
    browser.submit()
    return request_received(browser, company)


def confirm_email(browser, company, email, expect="Pending", shot=None):
    """Opens the confirmation link emailed to `email` and confirms: the request's status, which must
    say `expect` (with expect "", any status)."""
    browser.open(browser.platform.link_in_email(email, "/verify"))
    if shot:
        browser.shot(shot)
    browser.click(By.ID, "confirm")
    status = browser.read(By.ID, "request-status")
    check(status != "" and expect in status, "%s's emailed link confirms the email: %s" % (company, status))
    return status


def sign_up_and_confirm(browser, company, email, expect="Pending", **contact):
    """sign_up, then confirm_email: the request number (no approval here)."""
    number = sign_up(browser, company, email, **contact)
    confirm_email(browser, company, email, expect)
    return number


def set_password(browser, link, password, shot=None):
    """Sets the password from a set-password link (None: on the set-password page already open)."""
    if link:
        browser.open(link)
    browser.fill({"password": password, "password_confirm": password})
    browser.submit()
    browser.wait_text("You can sign in now")
    if shot:
        browser.shot(shot)


def sign_in(browser, email, password, shot=None):
    """Signs a partner in through /sign-in: True on My Account, False on the sign-in error."""
    browser.open("/sign-in")
    if shot:
        browser.shot(shot)
    browser.fill({"email": email, "password": password})
    browser.submit()
    wait_for(lambda: browser.driver.current_url.endswith("/account") or "not right" in browser.text(),
             "the answer to %s signing in" % email)
    return browser.driver.current_url.endswith("/account")


def set_password_and_sign_in(browser, email, password, nth=1):
    """The set-password link of the nth such email to `email` (welcome or invitation), then /sign-in."""
    set_password(browser, browser.platform.link_in_email(email, "/set-password", nth), password)
    if not sign_in(browser, email, password):
        raise Failure("%s was not signed in to My Account with the password just set" % email)


# The processes whose output a failed suite shows (the broker and the SMTP sink say little).
SHOWN_ON_FAILURE = ("web", "onboarding", "customers", "sales-bridge", "notifier")


def run_suite(description_doc, play, name, platform_factory=Platform, up_kwargs=None,
              work_prefix="gatehouse-web-test-"):
    """A suite's main(): parses --bin, --source and --screenshots, starts the platform
    (platform_factory(...).up(**up_kwargs)) and plays the story: play(platform, browsers, args), which
    appends every Browser it creates to `browsers`. On a failure prints it, each browser's page and
    the processes' last output; at the end, pass or fail, quits the browsers, stops every process
    and removes the work directory. Returns the exit code."""
    parser = argparse.ArgumentParser(description=description_doc.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--screenshots", default="")
    args = parser.parse_args()
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix=work_prefix)
    platform = platform_factory(args.bin, args.source, work)
    browsers = []
    try:
        platform.up(**(up_kwargs or {}))
        play(platform, browsers, args)
        print("%s suite passed in %.1f s" % (name, time.monotonic() - started), flush=True)
        return 0
    except Exception as failure:  # noqa: BLE001 -- any failure: show the pages and the processes' output
        print("FAILED:", type(failure).__name__, failure, flush=True)
        for browser in browsers:
            try:
                print("--- page %s ---\n%s" % (browser.driver.current_url, browser.driver.page_source[-3000:]))
            except Exception as gone:  # noqa: BLE001 -- the browser itself may be gone
                print("--- a browser's page cannot be read: %s ---" % type(gone).__name__)
        for process in SHOWN_ON_FAILURE:
            path = os.path.join(work, process + ".out")
            if os.path.exists(path):
                with open(path) as out:
                    print("--- %s output (last lines) ---\n%s" % (process, out.read()[-2000:]))
        return 1
    finally:
        for browser in browsers:
            try:
                browser.quit()
            except Exception:  # noqa: BLE001 -- a browser already gone: the others and the platform still stop
                pass
        platform.stop()
        shutil.rmtree(work, ignore_errors=True)
