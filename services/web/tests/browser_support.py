#!/usr/bin/python3
"""What the browser suites share: the platform (broker, SMTP sink, four services, web service, each
a child process on free loopback ports, stopped by pid) and a headless Chromium driven by Selenium,
with waits on conditions (never fixed sleeps). The staff in STAFF can sign in to the back office."""
import argparse
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
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

    def link_in_email(self, address, path, nth=1):
        """The link to `path` in the nth email received for `address` that has one (in arrival order)."""
        def find():
            links = []
            for name in sorted(glob.glob(os.path.join(self.mail_dir, "*.json"))):
                message = json.load(open(name))
                if address in message.get("rcpt_tos", []):
                    found = re.search(re.escape(self.web + path) + r"\?[^\s\"<>]+", message.get("text") or "")
                    if found:
                        links.append(found.group(0))
            return links[nth - 1] if len(links) >= nth else None
        return wait_for(find, "email number %d to %s with a %s link" % (nth, address, path))

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

    def staff_sign_in(self, email):
        """Signs a member of STAFF in to the back office."""
        self.open("/office/sign-in")
        self.fill({"email": email, "password": STAFF[email][2]})
        self.submit()
        wait_for(lambda: "/office" in self.driver.current_url and "/sign-in" not in self.driver.current_url,
                 "the back office after %s signed in" % email)


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


