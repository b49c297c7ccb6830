#!/usr/bin/python3
"""The back office's HQ desk in a real headless Chromium, against the real processes.

  office_hq_test.py --bin BUILD_DIR --source SOURCE_DIR [--screenshots DIR]

Starts the broker, the SMTP sink, the four services and gatehouse-web (approval mode direct), then
plays HQ's story through pages only: two prospects sign up and confirm their email; HQ signs in,
opens All prospects, filters to pending, opens the first prospect and approves it through the
confirmation page (the welcome email with a set-password link reaches the prospect); rejects the
second with a reason (a missing reason is refused on its input first); opens the new customer and
sees its administrator; the administrator adds a user, who becomes administrator through HQ's
Change administrator form. HQ onboarding through pages: HQ creates an organisation (a bad
country code refused on its input first), adds a person as B2B administrator, who gets the
invitation email, sets a password and signs in; HQ edits the phone, sets a credit limit, creates a
hierarchy and adds and removes the person. Negative checks: anonymous visitors are sent to the staff sign-in, a
sales member gets 403, a POST without the CSRF token is refused and approves nothing, deciding an
already decided request or approving one's own shows the service's reason, a wrong staff password
shows the sign-in error. Saves PNGs with --screenshots. Every process is stopped by pid at the end, pass or fail.
"""
import sys
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_support import (STAFF, Browser, check, http_request, post, run_suite, set_password_and_sign_in,
                             sign_up_and_confirm, wait_for)


def table_rows(browser, table_id):
    """The rows' texts of a table, once the page that has it is loaded."""
    return browser.read(By.ID, table_id, lambda table: [row.text for row in table.find_elements(
        By.CSS_SELECTOR, "tbody tr")])


def play(platform, browsers, args):
    # Anonymous visitors are sent to the staff sign-in, with the page to come back to.
    status, headers, _ = http_request(platform, "GET", "/office/prospects")
    location = headers.get("Location", "")
    check(status == 303 and location.startswith("/office/sign-in"),
          "an anonymous GET /office/prospects goes to the staff sign-in (%d %s)" % (status, location))
    status, headers, _ = http_request(platform, "GET", "/office/customers/view?customer=1")
    location = headers.get("Location", "")
    check(status == 303 and location.startswith("/office/sign-in"), "... and so does a customer's page")

    # A wrong staff password shows the sign-in error.
    hilda = Browser(platform, args.screenshots)
    browsers.append(hilda)
    hilda.open("/office/sign-in")
    hilda.read(By.NAME, "email")
    hilda.shot("office-00-staff-sign-in")
    hilda.fill({"email": "hilda@hq.example", "password": "not " + STAFF["hilda@hq.example"][2]})
    hilda.submit()
    check("not right" in hilda.read(By.ID, "error-summary"), "a wrong staff password shows the sign-in error")
    check(hilda.cookie("gh_staff") is None, "... and opens no staff session")

    # Two prospects sign up and confirm their email.
    anna = Browser(platform, "")
    browsers.append(anna)
    suffix = str(int(time.time() * 1000))
    acme, anna_email = "Acme Tools %s GmbH" % suffix, "anna.%s@acme.example" % suffix
    globex, bob_email = "Globex Trading %s AG" % suffix, "bob.%s@globex.example" % suffix
    # (The requests stay Pending: deciding them is HQ's job below.)
    acme_number = sign_up_and_confirm(anna, acme, anna_email, first_name="Anna")
    globex_number = sign_up_and_confirm(anna, globex, bob_email, first_name="Bob")

    # HQ: All prospects, filtered to pending.
    hilda.staff_sign_in("hilda@hq.example")
    check("hilda@hq.example" in hilda.read(By.ID, "signed-in-as"), "the back office's home names who is signed in")
    hilda.shot("office-01-home")
    hilda.open("/office/prospects")
    rows = table_rows(hilda, "prospects")
    check(any(acme_number in row for row in rows) and any(globex_number in row for row in rows),
          "All prospects lists both requests")
    Select(hilda.find(By.ID, "filter-status")).select_by_value("2")
    hilda.click(By.ID, "filter")
    wait_for(lambda: "status=2" in hilda.driver.current_url, "the pending filter in the address")
    rows = table_rows(hilda, "prospects")
    check(rows and all("Pending" in row for row in rows) and any(acme_number in row for row in rows),
          "filtered to pending: %d pending rows, Acme's among them" % len(rows))
    check(Select(hilda.find(By.ID, "filter-status")).first_selected_option.get_attribute("value") == "2",
          "the filter keeps its choice")
    hilda.shot("office-hq-01-prospects")

    # The prospect's page, then approve through the confirmation page.
    hilda.click(By.LINK_TEXT, acme_number)
    check(hilda.read(By.ID, "company-name") == acme, "the prospect's page shows the company")
    check(hilda.read(By.ID, "contact-email") == anna_email, "... the contact's email")
    check(hilda.read(By.ID, "prospect-status") == "Pending", "... the status Pending")
    timeline = table_rows(hilda, "timeline")
    check(len(timeline) >= 2 and any("email confirmed" in row for row in timeline),
          "... and the timeline (%d entries)" % len(timeline))
    hilda.shot("office-hq-02-prospect")
    hilda.click(By.ID, "approve")
    check(acme in hilda.read(By.ID, "company-name"), "Approve first asks for a confirmation")
    hilda.shot("office-hq-03-approve-confirm")
    hilda.click(By.ID, "confirm-approve")
    check("approved" in hilda.read(By.ID, "notice"), "the approval ends on the prospect's page with a notice")
    check(hilda.read(By.ID, "prospect-status") == "Approved", "the prospect is Approved")
    check(hilda.read(By.ID, "decided-by") != "", "the page says who decided")
    check(not hilda.driver.find_elements(By.ID, "approve"), "a decided prospect offers no Approve")

    # The customers service makes the organisation and the welcome email reaches the prospect.
    link = platform.link_in_email(anna_email, "/set-password")
    check("/set-password?token=" in link, "the welcome email with a set-password link reaches the prospect")

    # CSRF: a POST without the form's token is refused and approves nothing.
    cookies = hilda.cookies("gh_staff", "gh_csrf")
    status, _ = post(platform, "/office/prospects/approve", {"request_number": globex_number}, cookies)
    check(status == 403, "a POST to /office/prospects/approve without the CSRF token is refused 403")
    status, _ = post(platform, "/office/prospects/approve", {"request_number": globex_number, "csrf": "0" * 64},
                     cookies)
    check(status == 403, "... and with a wrong token")
    hilda.open("/office/prospects/view?request=" + urllib.parse.quote(globex_number))
    check(hilda.read(By.ID, "prospect-status") == "Pending", "the refused POSTs approved nothing")

    # Reject the second prospect: the reason is required, on its input.
    hilda.click(By.ID, "reject")
    hilda.click(By.ID, "confirm-reject")
    check(hilda.driver.find_elements(By.ID, "reject-reason-error") and "Reason" in hilda.read(
        By.ID, "error-summary"), "a rejection without a reason is refused on the reason's input")
    hilda.fill({"reason": "Not a B2B reseller."})
    hilda.shot("office-hq-04-reject")
    hilda.click(By.ID, "confirm-reject")
    check("rejected" in hilda.read(By.ID, "notice"), "the rejection ends on the prospect's page with a notice")
    check(hilda.read(By.ID, "prospect-status") == "Rejected", "the status shows Rejected")
    check(hilda.read(By.ID, "decision-reason") == "Not a B2B reseller.", "... with the reason")

    # An already decided request: the confirmation page says so, and a POST gets the service's reason.
    hilda.open("/office/prospects/approve?request=" + urllib.parse.quote(globex_number))
    check("Rejected" in hilda.read(By.ID, "not-pending") and not hilda.driver.find_elements(
        By.ID, "confirm-approve"), "the confirmation page of a decided request offers no approval")
    status, body = post(platform, "/office/prospects/approve",
                        {"request_number": globex_number, "csrf": hilda.cookie("gh_csrf")}, cookies)
    check(status == 409 and "error-summary" in body, "approving a rejected request is refused 409 with the "
          "service's reason in the error summary")
    # Self-approval: HQ may not approve a request with their own email; the service's reason is
    # shown on the confirmation page and the request stays pending.
    own_number = sign_up_and_confirm(anna, "Hilda's Side Business %s" % suffix, "hilda@hq.example",
                                     first_name="Hilda")
    hilda.open("/office/prospects/approve?request=" + urllib.parse.quote(own_number))
    hilda.click(By.ID, "confirm-approve")
    check("own request" in hilda.read(By.ID, "error-summary"),
          "approving one's own request shows the service's reason in the error summary")
    check(hilda.read(By.ID, "prospect-status") == "Pending", "... and the request stays pending")
    hilda.open("/office/prospects?status=4")
    check(any(globex_number in row for row in table_rows(hilda, "prospects")), "the rejected filter lists it")

    # The new customer: found from the prospect's page (once the customers service made it) and
    # by the customers search; its page shows the administrator.
    def customer_link():
        hilda.open("/office/prospects/view?request=" + urllib.parse.quote(acme_number))
        hilda.read(By.ID, "prospect-status")
        return hilda.driver.find_elements(By.ID, "customer-link")
    wait_for(customer_link, "the approved prospect's customer record")
    hilda.open("/office/customers")
    hilda.fill({"text": acme})
    hilda.click(By.ID, "search")
    rows = table_rows(hilda, "customers")
    check(len(rows) == 1 and acme in rows[0], "the customers search finds the new organisation")
    hilda.shot("office-hq-09-customers")
    hilda.click(By.LINK_TEXT, hilda.read(By.CSS_SELECTOR, "a.customer-link"))
    check(hilda.read(By.ID, "customer-name") == acme, "the customer's page shows the organisation")
    check(anna_email in hilda.read(By.ID, "administrator"), "... and its administrator, the prospect's contact")
    check(any(anna_email in row and "Administrator" in row for row in table_rows(hilda, "partner-users")),
          "... who is listed among its partner users")
    check(hilda.driver.find_elements(By.ID, "no-candidates"), "no one else can become administrator yet")
    check(acme_number == hilda.read(By.ID, "prospect-link"), "the customer links back to its request")
    hilda.shot("office-hq-05-customer")
    customer_url = hilda.driver.current_url

    # Change administrator: the administrator adds Tom, who sets his password; HQ makes him
    # the administrator.
    set_password_and_sign_in(anna, anna_email, "correct horse battery staple")
    anna.open("/account/users")
    tom_email = "tom.%s@acme.example" % suffix
    anna.fill({"email": tom_email, "first_name": "Tom", "last_name": "Berg", "job_title": "Buyer"})
    anna.submit()
    anna.wait_text("Invitation sent to " + tom_email)
    tom = Browser(platform, "")
    browsers.append(tom)
    set_password_and_sign_in(tom, tom_email, "tom's own long passphrase")
    hilda.open(customer_url)
    Select(hilda.find(By.ID, "new-admin")).select_by_visible_text("Tom Berg (%s)" % tom_email)
    hilda.click(By.ID, "change-admin")
    check("changed" in hilda.read(By.ID, "notice"), "Change administrator ends with a notice")
    check(tom_email in hilda.read(By.ID, "administrator"), "Tom is the organisation's administrator now")
    tom.open("/account/users")
    check(tom.driver.find_elements(By.ID, "add-user-form"), "Tom manages the organisation's users now")

    # HQ onboarding: a new organisation through the page (a bad country code is refused on its
    # input first), a person with "B2B administrator" ticked, who is invited and signs in; then
    # the master data: an edit, the credit limit, a hierarchy with a member added and removed.
    hilda.open("/office/customers")
    hilda.click(By.ID, "new-customer")
    initech = "Initech %s Ltd" % suffix
    hilda.fill({"details.name": initech, "details.address.street": "Hauptstr. 1",
                "details.address.postal_code": "10115", "details.address.city": "Berlin",
                "details.address.country_code": "Germany", "details.phone": "+49 30 1234567",
                "details.email": "office.%s@initech.example" % suffix, "details.website": "https://initech.example",
                "details.tax_id": "DE%s" % suffix[-9:]})
    hilda.click(By.ID, "create-customer")
    check(hilda.driver.find_elements(By.ID, "new-customer-f-details-address-country_code-error") and
          "Country code" in hilda.read(By.ID, "error-summary"),
          "a bad country code is refused on its input")
    check(hilda.read(By.NAME, "details.name", lambda e: e.get_attribute("value")) == initech,
          "... and the form keeps what was typed")
    hilda.fill({"details.address.country_code": "de"})
    hilda.shot("office-hq-06-new-customer")
    hilda.click(By.ID, "create-customer")
    check("created" in hilda.read(By.ID, "notice"), "the new organisation's page says it was created")
    check(hilda.read(By.ID, "customer-name") == initech, "... and shows its name")
    check("DE" in hilda.read(By.ID, "customer"), "... with the country code in capitals")
    initech_url = hilda.driver.current_url
    initech_id = hilda.read(By.ID, "customer-id")

    # A person with "B2B administrator" ticked: invited by email, sets a password and signs in.
    peter_email = "peter.%s@initech.example" % suffix
    hilda.fill({"details.first_name": "Peter", "details.last_name": "Gibbons"})
    hilda.click(By.ID, "add-person")
    check(hilda.driver.find_elements(By.ID, "add-person-f-details-email-error"),
          "a person without an email is refused by the service on the email's input (%s)" % hilda.read(
              By.ID, "add-person-f-details-email-error"))
    hilda.fill({"details.first_name": "Peter", "details.last_name": "Gibbons", "details.email": peter_email,
                "details.job_title": "Purchasing"})
    hilda.find(By.ID, "add-person-b2b-admin").click()
    check(hilda.find(By.ID, "add-person-b2b-admin").is_selected(), "the B2B administrator box is ticked")
    hilda.click(By.ID, "add-person")
    check("administrator" in hilda.read(By.ID, "notice"), "adding the person ends with a notice")
    check(any("Peter Gibbons" in row for row in table_rows(hilda, "people")), "... and lists them among its people")
    peter = Browser(platform, "")
    browsers.append(peter)
    set_password_and_sign_in(peter, peter_email, "peter's own long passphrase")
    check(True, "the invitation email reaches the B2B administrator, who sets a password and signs in")
    hilda.open(initech_url)
    check(peter_email in hilda.read(By.ID, "administrator"), "Initech's administrator is Peter")

    # Edit: the phone changes and the page shows it.
    hilda.click(By.ID, "edit-customer")
    check(hilda.read(By.NAME, "details.phone", lambda e: e.get_attribute("value")) == "+49 30 1234567",
          "the edit form is filled with the organisation's details")
    hilda.fill({"details.phone": "+49 30 7654321"})
    hilda.shot("office-hq-07-customer-edit")
    hilda.click(By.ID, "save-customer")
    check("saved" in hilda.read(By.ID, "notice"), "the edit ends with a notice")
    check(hilda.read(By.ID, "customer-phone") == "+49 30 7654321", "... and the page shows the new phone")

    # The credit limit and payment terms.
    hilda.fill({"credit_limit.minor_units": "lots"})
    hilda.click(By.ID, "set-limits")
    check(hilda.driver.find_elements(By.ID, "set-limits-f-credit_limit-minor_units-error"),
          "a credit limit that is not an amount is refused on its input")
    hilda.fill({"credit_limit.minor_units": "50000.00", "credit_limit.currency_code": "EUR",
                "payment_terms": "30 days net"})
    hilda.click(By.ID, "set-limits")
    check("limits" in hilda.read(By.ID, "notice"), "setting the limits ends with a notice")
    check(hilda.read(By.ID, "credit-limit") == "50000.00 EUR", "the page shows the credit limit 50000.00 EUR")
    check(hilda.read(By.ID, "payment-terms") == "30 days net", "... and the payment terms")

    # A hierarchy: created, Peter added from the organisation's people, then removed.
    hilda.fill({"name": "Initech Buyers"})
    hilda.click(By.ID, "create-hierarchy")
    check("hierarchy" in hilda.read(By.ID, "notice"), "creating a hierarchy ends with a notice")
    rows = table_rows(hilda, "hierarchies")
    check(any("Initech Buyers" in row for row in rows), "the hierarchy is listed")
    row = hilda.find(By.XPATH, "//table[@id='hierarchies']//tr[td[1][normalize-space()='Initech Buyers']]")
    hierarchy_id = row.get_attribute("data-hierarchy")
    hilda.click(By.ID, "add-member-" + hierarchy_id)
    check(hilda.driver.find_elements(By.ID, "member-errors-" + hierarchy_id),
          "Add member without a choice shows the service's reason on that hierarchy")
    Select(hilda.find(By.ID, "add-member-person-" + hierarchy_id)).select_by_visible_text(
        wait_for(lambda: [o.text for o in Select(hilda.find(By.ID, "add-member-person-" + hierarchy_id)).options
                          if "Peter Gibbons" in o.text], "Peter among the people to add")[0])
    hilda.click(By.ID, "add-member-" + hierarchy_id)
    check("added" in hilda.read(By.ID, "notice"), "adding a member ends with a notice")
    members = hilda.read(By.CSS_SELECTOR, "tr[data-hierarchy='%s'] ul.members" % hierarchy_id)
    check("Peter Gibbons" in members, "Peter is a member of the hierarchy")
    hilda.shot("office-hq-08-hierarchies")
    remove = hilda.find(By.XPATH, "//tr[@data-hierarchy='%s']//ul[@class='members']/li[a[normalize-space()="
                        "'Peter Gibbons']]//button" % hierarchy_id)
    hilda.click(By.ID, remove.get_attribute("id"))
    check("removed" in hilda.read(By.ID, "notice"), "removing a member ends with a notice")
    members = hilda.read(By.CSS_SELECTOR, "tr[data-hierarchy='%s'] ul.members" % hierarchy_id)
    check("Peter Gibbons" not in members, "Peter is no longer a member")
    status, _ = post(platform, "/office/customers/limits", {"organization_customer_id": initech_id,
                                                             "credit_limit.minor_units": "1.00",
                                                             "credit_limit.currency_code": "EUR"},
                     hilda.cookies("gh_staff", "gh_csrf"))
    check(status == 403, "a limits POST without the CSRF token is refused 403")

    # A sales member may not open the HQ desk.
    sam = Browser(platform, "")
    browsers.append(sam)
    sam.staff_sign_in("sam@sales.example")
    status, _, body = http_request(platform, "GET", "/office/prospects", cookies=sam.cookies("gh_staff"))
    check(status == 403 and "Not allowed" in body, "a sales member gets 403 on /office/prospects")
    status, _, _ = http_request(platform, "GET", "/office/customers", cookies=sam.cookies("gh_staff"))
    check(status == 403, "... and on /office/customers")

    # German, and a phone's width.
    hilda.open("/office/prospects?lang=de")
    hilda.wait_text("Alle Interessenten")
    check("In Prüfung" in hilda.text() or "Genehmigt" in hilda.text(), "the HQ pages speak German")
    hilda.open("/office/prospects?lang=en")
    hilda.driver.set_window_size(390, 844)
    for path in ("/office/prospects", "/office/prospects/view?request=" + urllib.parse.quote(acme_number),
                 customer_url, initech_url, "/office/customers/new",
                 "/office/customers/edit?customer=" + urllib.parse.quote(initech_id)):
        hilda.open(path)
        hilda.read(By.TAG_NAME, "h1")
        check(hilda.fits_width(), "%s fits a phone's width" % path.replace(platform.web, ""))


if __name__ == "__main__":
    sys.exit(run_suite(__doc__, play, "office hq", up_kwargs={"approval_mode": "direct"},
                       work_prefix="gatehouse-office-hq-test-"))
