#!/usr/bin/python3
"""The back office's sales desk in a real headless Chromium, against the real processes.

  office_sales_test.py --bin BUILD_DIR --source SOURCE_DIR [--screenshots DIR]

Starts the platform as browser_test.py does, with onboarding in CRM approval mode, and plays the
CRM story through pages only: a prospect signs up and confirms the emailed link, the request
arrives in sales-bridge as a lead (through Kafka), a sales user finds it in "All commerce B2B
leads", assigns it to herself, sees it in "My open leads", adds a note, schedules, reschedules
and cancels an appointment, qualifies the lead (after a failed form), updates the opportunity's
stage and value and wins it through the confirmation page; the prospect gets the welcome email,
sets a password and signs in. Then sue opens the account from the opportunity, changes its phone
(after a refused empty name) and the contact's job title, and commerce's Organization and Person
customers follow (read with the gatehouse CLI as HQ). Checks that an anonymous visitor is sent to the staff sign-in, that
HQ staff get 403, that a sales manager may name another owner, that a POST without its CSRF token
is refused and changes nothing, and that the lead page fits a phone. Saves office-sales-*.png with
--screenshots. Every process is stopped by pid at the end, pass or fail.
"""
import json
import re
import sys
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_support import (HAMBURG, Browser, check, http_request, post, run_suite, set_password_and_sign_in,
                             sign_up_and_confirm, staff_cookies, wait_for)


def notice(browser, text):
    """The notice after a POST's 303, once it says `text`."""
    wait_for(lambda: text in browser.read(By.ID, "notice"), "the notice " + repr(text))


def type_into(browser, element_id, value):
    """Types into the input with this id (one page has several forms with the same input names)."""
    element = browser.find(By.ID, element_id)
    element.clear()
    element.send_keys(value)


def play(platform, browsers, args):
    # Who may not: anonymous visitors are sent to the staff sign-in, HQ staff get 403.
    status, headers, _ = http_request(platform, "GET", "/office/leads")
    location = headers.get("Location", "")
    check(status == 303 and location.startswith("/office/sign-in"),
          "an anonymous GET /office/leads goes to the staff sign-in (%d %s)" % (status, location))
    hilda = staff_cookies(platform, "hilda@hq.example")
    status, _, _ = http_request(platform, "GET", "/office/leads", cookies=hilda)
    check(status == 403, "HQ staff get 403 on /office/leads (%d)" % status)
    status, _, _ = http_request(platform, "GET", "/office/opportunities", cookies=hilda)
    check(status == 403, "HQ staff get 403 on /office/opportunities (%d)" % status)

    # The prospect signs up and confirms: in CRM mode the request becomes a lead.
    suffix = str(int(time.time() * 1000))
    company = "Nordwind Handel %s GmbH" % suffix
    nora_email = "nora.%s@nordwind.example" % suffix
    nora = Browser(platform, "")
    browsers.append(nora)
    # (Any status after confirming: no approval here, the CRM decides.)
    number = sign_up_and_confirm(nora, company, nora_email, expect="", first_name="Nora", last_name="Winter",
                                 place=HAMBURG)

    # Sue (sales) finds the lead in All commerce B2B leads: it arrives through Kafka.
    sue = Browser(platform, args.screenshots)
    browsers.append(sue)
    sue.staff_sign_in("sue@sales.example")
    check(sue.driver.find_elements(By.LINK_TEXT, "All commerce B2B leads"), "the back office links the leads")

    def lead_listed():
        sue.open("/office/leads")
        return company in sue.text()
    wait_for(lead_listed, "the lead of %s in All commerce B2B leads" % company)
    row = sue.read(By.ID, "leads")
    check("Unassigned" in row and nora_email in row and "Open" in row,
          "All leads shows the lead unassigned and open, with its contact")
    sue.shot("office-sales-01-leads")
    sue.open("/office/leads?text=" + urllib.parse.quote(nora_email))
    links = sue.driver.find_elements(By.CSS_SELECTOR, "#leads a")
    check(len(links) == 1, "the filter finds the lead by the contact's email")
    lead_id = links[0].text
    sue.open("/office/leads?mine=1")
    check(lead_id not in sue.text(), "an unassigned lead is not in My open leads")
    sue.open("/office/leads?lang=de")
    check("Alle Commerce-B2B-Leads" in sue.text(), "the leads in German")
    sue.open("/office/leads?lang=en&text=" + urllib.parse.quote(nora_email))
    sue.click(By.LINK_TEXT, lead_id)
    check(company in sue.read(By.ID, "company-name"), "the lead page shows the company")
    check(sue.read(By.ID, "request-number") == number, "the lead names the onboarding request " + number)
    check("storefront" in sue.read(By.ID, "timeline"), "the timeline says it came from the storefront")
    check(not sue.driver.find_elements(By.NAME, "owner_user_id") or
          sue.read(By.NAME, "owner_user_id", lambda e: e.get_attribute("type")) == "hidden",
          "a sales user assigns only to herself (no owner input)")

    # A sales manager may name another user: his assign form has the owner input.
    sam = staff_cookies(platform, "sam@sales.example")
    status, _, body = http_request(platform, "GET", "/office/leads/view?lead=" + urllib.parse.quote(lead_id),
                                   cookies=sam)
    check(status == 200 and 'id="assign-f-owner_user_id"' in body,
          "a sales manager's assign form lets him pick the user id")

    # Assign to me, then the lead is in My open leads.
    sue.click(By.ID, "assign")
    notice(sue, "assigned")
    check("sue" in sue.read(By.ID, "lead-owner"), "the lead is owned by sue")
    sue.open("/office/leads?mine=1")
    check(lead_id in sue.read(By.ID, "leads"), "My open leads shows the assigned lead")
    sue.click(By.LINK_TEXT, lead_id)

    # A note and an appointment (scheduled, moved, called off) on the lead's timeline.
    sue.fill({"text": "Called Nora: wants 40 stores on the portal."})
    sue.click(By.ID, "add-note")
    notice(sue, "The note was added.")
    check("wants 40 stores" in sue.read(By.ID, "timeline"), "the note is on the timeline")
    sue.fill({"subject": "Kick-off with Nordwind", "attendees": nora_email,
              "online_meeting_url": "https://meet.example/nordwind"})
    sue.click(By.ID, "schedule")
    notice(sue, "The appointment was scheduled")
    appointment = sue.read(By.ID, "appointment-id")
    check(re.match(r"^[0-9a-f-]{36}$", appointment) is not None, "the notice names the appointment " + appointment)
    check("Kick-off with Nordwind" in sue.read(By.ID, "timeline"), "the appointment is on the timeline")
    check(sue.read(By.ID, "reschedule-f-appointment_id", lambda e: e.get_attribute("value")) == appointment,
          "the reschedule form names the new appointment")
    for name, value in (("starts_at", "2031-03-04T09:00"), ("ends_at", "2031-03-04T10:00")):
        sue.driver.execute_script("arguments[0].value = arguments[1]",
                                  sue.find(By.ID, "reschedule-f-" + name), value)
    sue.click(By.ID, "reschedule")
    notice(sue, "The appointment was moved")
    check("moved to 2031-03-04T09:00:00Z" in sue.read(By.ID, "timeline"), "the timeline shows the new time")
    sue.shot("office-sales-02-lead")
    type_into(sue, "cancel-appointment-f-reason", "Nora asked to meet in person instead.")
    sue.click(By.ID, "cancel-appointment")
    notice(sue, "The appointment was cancelled")
    check("cancelled: Nora asked" in sue.read(By.ID, "timeline"), "the timeline shows the cancellation")

    # Qualify: a value that is not an amount lands on its input, then the real one.
    sue.fill({"estimated_value.minor_units": "lots"})
    sue.click(By.ID, "qualify")
    check("amount" in sue.read(By.ID, "qualify-f-estimated_value-minor_units-error"),
          "a value that is not an amount is refused on its input")
    check(sue.driver.find_elements(By.ID, "error-summary"), "... with an error summary")
    sue.fill({"estimated_value.minor_units": "25000"})
    sue.click(By.ID, "qualify")
    notice(sue, "The lead is qualified")
    check(sue.read(By.ID, "lead-status") == "Qualified", "the lead is Qualified")
    check(not sue.driver.find_elements(By.ID, "qualify"), "a qualified lead offers no qualify any more")
    opportunity_id = sue.read(By.ID, "opportunity-link")
    sue.click(By.ID, "opportunity-link")

    # The opportunity: stage and value, then won through the confirmation page.
    check(sue.read(By.ID, "opportunity-status") == "Open", "the opportunity is Open")
    value = sue.read(By.ID, "estimated-value")
    check(value == "25000.00 EUR", "the opportunity has the estimated value: " + value)
    check(sue.read(By.ID, "opportunity-stage") == "Qualify", "the opportunity starts in stage Qualify")
    Select(sue.find(By.ID, "update-f-stage")).select_by_value("OPPORTUNITY_STAGE_PROPOSE")
    sue.fill({"estimated_value.minor_units": "30000.50"})
    sue.click(By.ID, "update")
    notice(sue, "The opportunity was updated.")
    check(sue.read(By.ID, "opportunity-stage") == "Propose", "the stage is now Propose")
    check(sue.read(By.ID, "estimated-value") == "30000.50 EUR", "the estimated value is now 30000.50 EUR")
    check("stage Qualify -> Propose" in sue.read(By.ID, "timeline"), "the timeline records the change")
    sue.shot("office-sales-03-opportunity")
    sue.click(By.ID, "update")
    notice(sue, "Nothing changed")
    sue.open("/office/opportunities?mine=1")
    check(opportunity_id in sue.read(By.ID, "opportunities"), "My open opportunities lists it")
    sue.open("/office/opportunities")
    check(opportunity_id in sue.read(By.ID, "opportunities"), "All opportunities lists it")
    sue.shot("office-sales-08-opportunities")

    # CSRF: a POST without the form's token is refused and wins nothing.
    cookies = sue.cookies("gh_staff", "gh_csrf")
    status, _ = post(platform, "/office/opportunities/win", {"opportunity_id": opportunity_id}, cookies)
    check(status == 403, "a win POST without CSRF token is refused 403")
    status, _ = post(platform, "/office/leads/assign", {"lead_id": lead_id, "csrf": "0" * 64}, cookies)
    check(status == 403, "an assign POST with a wrong CSRF token is refused 403")
    sue.open("/office/opportunities/view?opportunity=" + urllib.parse.quote(opportunity_id))
    check(sue.read(By.ID, "opportunity-status") == "Open", "the refused POST changed nothing: still Open")
    for path in ("/office/leads/view", "/office/leads/view?lead=LEAD-PR-999999",
                 "/office/opportunities/view?opportunity=nothing", "/office/leads?page=not-a-token"):
        status, _, _ = http_request(platform, "GET", path, cookies=cookies)
        check(status == 404, "GET %s is 404 (%d)" % (path, status))

    sue.click(By.ID, "win")
    check(company in sue.read(By.ID, "company-name") and "cannot be undone" in sue.read(By.ID, "win-text"),
          "winning asks for a confirmation first")
    sue.shot("office-sales-04-win-confirm")
    sue.click(By.ID, "confirm-win")
    notice(sue, "The opportunity is won")
    check(sue.read(By.ID, "opportunity-status") == "Won", "the opportunity is Won")
    check(not sue.driver.find_elements(By.ID, "win"), "a won opportunity offers no win any more")
    status, _, body = http_request(platform, "POST", "/office/opportunities/win",
                                   {"opportunity_id": opportunity_id, "csrf": cookies["gh_csrf"]}, cookies)
    check(status == 409, "winning it again is refused with the service's reason (%d)" % status)

    # The prospect is approved: the welcome email, a password, My Account.
    set_password_and_sign_in(nora, nora_email, "nora's long correct passphrase")
    check(company in nora.text(), "the prospect signs in to My Account of " + company)

    # The account the lead made: sue edits its phone in the CRM and commerce's Organization follows.
    sue.open("/office/opportunities/view?opportunity=" + urllib.parse.quote(opportunity_id))
    account_id = sue.read(By.ID, "account-link")
    contact_id = sue.read(By.ID, "contact-link")
    sue.click(By.ID, "account-link")
    check(sue.read(By.ID, "account-name") == company, "the account page shows the company's name")
    check(sue.read(By.ID, "account-id") == account_id, "the account page names the account " + account_id)
    check(sue.read(By.ID, "opportunity-link") == opportunity_id, "the account links its opportunity")

    def organization():
        found = json.loads(platform.cli("--json", "customers", "list", "--text", company, "--type", "organization"))
        linked = [c for c in found.get("customers", []) if c.get("crmAccountId") == account_id]
        return linked[0] if linked else None
    wait_for(organization, "commerce's Organization customer linked to the account " + account_id)
    new_phone = "+49 40 5550 %s" % suffix[-4:]
    sue.click(By.ID, "edit-account")
    check(sue.read(By.ID, "account-f-account-name", lambda e: e.get_attribute("value")) == company,
          "the account form is prefilled with the name")
    type_into(sue, "account-f-account-name", "")
    type_into(sue, "account-f-account-phone", new_phone)
    sue.click(By.ID, "save-account")
    check("required" in sue.read(By.ID, "account-f-account-name-error"), "an empty name is refused on its input")
    check(sue.driver.find_elements(By.ID, "error-summary"), "... with an error summary")
    check(sue.read(By.ID, "account-f-account-phone", lambda e: e.get_attribute("value")) == new_phone,
          "the refused form keeps what was typed")
    sue.shot("office-sales-06-account-edit")
    cookies = sue.cookies("gh_staff", "gh_csrf")
    status, _ = post(platform, "/office/accounts/edit",
                     {"account_id": account_id, "account.name": "", "csrf": cookies["gh_csrf"]}, cookies)
    check(status == 422, "an empty name is answered 422 (%d)" % status)
    status, _ = post(platform, "/office/accounts/edit", {"account_id": account_id, "account.name": "X Y"}, cookies)
    check(status == 403, "an account POST without CSRF token is refused 403 (%d)" % status)
    for path in ("/office/accounts/view?account=" + urllib.parse.quote(account_id),
                 "/office/contacts/edit?contact=" + urllib.parse.quote(contact_id)):
        status, _, _ = http_request(platform, "GET", path, cookies=hilda)
        check(status == 403, "HQ staff get 403 on %s (%d)" % (path, status))
    status, _, _ = http_request(platform, "GET", "/office/accounts/view?account=nothing", cookies=cookies)
    check(status == 404, "an account that does not exist is 404 (%d)" % status)
    type_into(sue, "account-f-account-name", company)
    sue.click(By.ID, "save-account")
    notice(sue, "The account was saved")
    check(sue.read(By.ID, "account-phone") == new_phone, "the account page shows the new phone " + new_phone)
    check(sue.read(By.ID, "account-name") == company, "the name is unchanged")
    sue.shot("office-sales-05-account")
    wait_for(lambda: (organization() or {}).get("details", {}).get("phone") == new_phone,
             "commerce's Organization customer to get the phone " + new_phone)
    sue.click(By.ID, "edit-account")
    sue.click(By.ID, "save-account")
    notice(sue, "Nothing changed")

    # The contact: sue changes Nora's job title and commerce's Person follows.
    sue.click(By.ID, "contact-link")
    check(sue.read(By.ID, "contact-email") == nora_email, "the contact page shows Nora's email")
    check(sue.read(By.ID, "account-link") == account_id, "the contact links its account")
    sue.shot("office-sales-07-contact")
    sue.click(By.ID, "edit-contact")
    type_into(sue, "contact-f-contact-job_title", "Head of Purchasing")
    sue.click(By.ID, "save-contact")
    notice(sue, "The contact was saved")
    check(sue.read(By.ID, "contact-job-title") == "Head of Purchasing", "the contact page shows the new job title")

    def person_job_title():
        found = json.loads(platform.cli("--json", "customers", "list", "--text", nora_email, "--type", "person"))
        linked = [c for c in found.get("customers", []) if c.get("crmContactId") == contact_id]
        return linked[0].get("details", {}).get("jobTitle") if linked else None
    wait_for(lambda: person_job_title() == "Head of Purchasing",
             "commerce's Person customer to get the job title Head of Purchasing")
    sue.driver.set_window_size(390, 844)
    sue.open("/office/accounts/edit?account=" + urllib.parse.quote(account_id))
    sue.find(By.ID, "save-account")
    check(sue.fits_width(), "the account form fits a phone's width")
    sue.driver.set_window_size(1000, 900)

    # The lead page on a phone: no sideways scrolling of the page.
    sue.driver.set_window_size(390, 844)
    sue.open("/office/leads/view?lead=" + urllib.parse.quote(lead_id))
    sue.find(By.ID, "timeline")
    check(sue.fits_width(), "the lead page fits a phone's width")


if __name__ == "__main__":
    sys.exit(run_suite(__doc__, play, "office sales", up_kwargs={"approval_mode": "crm"},
                       work_prefix="gatehouse-office-sales-test-"))
