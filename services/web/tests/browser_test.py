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
import os
import sys
import time
import urllib.parse

from selenium.webdriver.common.by import By

from browser_support import (Browser, check, confirm_email, http_request, partner_form, post, request_received,
                             run_suite, set_password, sign_in, wait_for)


def sign_up(browser, company, email, screenshots=False):
    """The /partner form (first with an email the API refuses), the emailed confirmation link, then HQ
    approves with the CLI: the request number. With screenshots, also the form's errors and a link
    that does not work."""
    browser.open("/partner")
    if screenshots:
        browser.shot("01-become-a-partner")
    browser.fill(partner_form(company, "not-an-email"))
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
    number = request_received(browser, company)
    if screenshots:
        browser.shot("03-request-received")
    confirm_email(browser, company, email, shot="04-confirm-email" if screenshots else None)
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


def set_password_and_sign_in(browser, email, password, screenshots=False, nth=1):
    """The nth set-password link emailed to `email`, then /sign-in; with screenshots, a too short
    password first."""
    link = browser.platform.link_in_email(email, "/set-password", nth)
    if screenshots:
        browser.open(link)
        check("at least 12 characters" in browser.text(), "the password rules are shown")
        browser.fill({"password": "short", "password_confirm": "short"})
        browser.submit()
        check(browser.driver.find_elements(By.ID, "f-password-error"), "a too short password is refused on its input")
        browser.shot("07-set-password-errors")
        link = None  # the new password goes into the same form, now showing the error
    set_password(browser, link, password, shot="08-password-set" if screenshots else None)
    check(sign_in(browser, email, password, shot="09-sign-in" if screenshots else None),
          "%s is on My Account after signing in" % email)


def play(platform, browsers, args):
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
    _, headers, _ = http_request(platform, "GET", "/partner")
    csp = headers.get("Content-Security-Policy") or ""
    check("default-src 'self'" in csp and "frame-ancestors 'none'" in csp, "the pages send a CSP: " + csp)
    check(headers.get("X-Content-Type-Options") == "nosniff", "X-Content-Type-Options: nosniff")
    check(headers.get("Referrer-Policy") == "no-referrer", "Referrer-Policy: no-referrer")
    cookie = ", ".join(headers.get_all("Set-Cookie") or [])
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie, "the CSRF cookie is HttpOnly, SameSite=Strict")

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
    # Resend Tom's invitation: a new link, and the first one stops working.
    first_invitation = platform.link_in_email(tom_email, "/set-password")
    anna.click(By.CSS_SELECTOR, "button.resend")
    anna.wait_text("A new invitation was sent to " + tom_email)
    platform.link_in_email(tom_email, "/set-password", nth=2)
    # Edit Tom: his job title and the View Financials permission.
    tom_row = "//table[@id='users']//tr[td[contains(., '%s')]]" % tom_email
    anna.click(By.XPATH, tom_row + "//a[contains(@class, 'edit')]")
    check(anna.read(By.ID, "edit-email") == tom_email, "the edit page is Tom's")
    anna.shot("11b-edit-user")
    # Edit Tom: job title, View Financials, a spending limit (first one that is not an amount).
    anna.fill({"job_title": "Senior buyer", "spending_limit": "lots"})
    anna.find(By.ID, "f-view-financials").click()
    anna.click(By.ID, "save-user")
    check("an amount" in anna.read(By.ID, "f-spending_limit-error"), "a spending limit that is no amount is refused on its input")
    check(anna.find(By.ID, "f-view-financials").is_selected(), "the refused form keeps the ticked box")
    anna.fill({"spending_limit": "2500"})
    anna.click(By.ID, "save-user")
    anna.wait_text("The user was saved.")
    check("Senior buyer" in anna.read(By.XPATH, tom_row), "the edited job title is listed")
    anna.click(By.XPATH, tom_row + "//a[contains(@class, 'edit')]")
    check(anna.find(By.ID, "f-view-financials").is_selected(), "View Financials was saved")
    check(anna.read(By.ID, "f-spending_limit", lambda element: element.get_attribute("value")) == "2500.00",
          "the spending limit was saved: 2500.00 (EUR)")
    anna.click(By.LINK_TEXT, "Cancel")
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
                        bob.cookies("gh_session", "gh_csrf", "gh_org"))
    check(status in (403, 404), "Globex's admin posting Acme's user id is refused (%d)" % status)
    status, body = post(platform, "/account/users/remove", {"user": tom_id, "csrf": bob.cookie("gh_csrf")},
                        {**bob.cookies("gh_session", "gh_csrf"), "gh_org": anna.cookie("gh_org")})
    check(status in (403, 404), "... also with Acme's organisation id put in the cookie (%d)" % status)
    anna.open("/account/users")
    check(tom_email in anna.text(), "Acme's user is still there")

    # The new user (not an administrator) sets a password from the invitation and signs in.
    tom = Browser(platform, "")
    browsers.append(tom)
    tom.open(first_invitation)
    tom.fill({"password": "tom's own long passphrase", "password_confirm": "tom's own long passphrase"})
    tom.submit()
    tom.wait_text("already used or expired")
    print("ok - the first invitation link stopped working when it was resent", flush=True)
    set_password_and_sign_in(tom, tom_email, "tom's own long passphrase", nth=2)
    tom.open("/account/users")
    check(tom.driver.find_elements(By.ID, "not-admin"), "a non-admin is told the administrator manages users")
    check(not tom.driver.find_elements(By.ID, "add-user-form") and not tom.driver.find_elements(
        By.CSS_SELECTOR, "a.remove"), "a non-admin sees no add or remove action")
    if args.screenshots:
        tom.shots = args.screenshots
        tom.shot("13-users-as-non-admin")
    tom_cookies = tom.cookies("gh_session", "gh_csrf", "gh_org")
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
    status, headers, _ = http_request(platform, "GET", "/account", cookies={
        "gh_session": session, "gh_org": bob.cookie("gh_org")})
    check(status == 303 and headers.get("Location") == "/sign-in",
          "the signed-out session token no longer opens My Account")
    # The phone: the users page at 390 px wide reads without sideways scrolling of the page.
    bob.driver.set_window_size(390, 844)
    bob.open("/account")
    if args.screenshots:
        bob.driver.save_screenshot(os.path.join(args.screenshots, "14-my-account-phone.png"))
    check(bob.fits_width(), "pages fit a phone's width")


if __name__ == "__main__":
    sys.exit(run_suite(__doc__, play, "browser", work_prefix="gatehouse-web-test-"))
