#!/usr/bin/env python3
"""End-to-end test of the queue pages in a real browser (Debian's chromium, headless, through chromium-driver).

Starts a turno server on a loopback port with a throw-away SQLite database, sets up a branch over the API, then:
issues a ticket on the kiosk page, opens its ticket page, signs in to the console and calls next, and checks that
the display and the ticket page show the call within one second and that the display queued an announcement;
a ticket page opened after the call shows the called state; the console finishes the ticket and its "My day" counts it;
the customer reports a problem on the served ticket's page; after the server is killed and restarted, the display
reconnects by itself and shows the next call. The reports page shows figures, SVG charts and a table and its CSV and PDF
downloads answer; a manager answers the complaint in the complaints inbox and the ticket page shows the reply. On the
schedule page the administrator adds a shift template and assigns it, sees the shift in the week and a half hour short of
counters, is told why a double booking is refused, and sets opening hours with today closed, which the kiosk then says.
Screenshots of every page are saved at the end.

    python3 Tests/e2e/pages.py --turno .build/debug/turno --screenshots screenshots [--measure]

With --measure it also prints, per page, the bytes transferred on first load and the time to first render, and the
time from pressing "call next" to the display showing the number (BENCHMARKS.md records them).
"""
import argparse
import base64
import datetime
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from zoneinfo import ZoneInfo

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ADMIN_PASSWORD = "e2e-admin-password"
FAILURES = []
# A P-256 point that passes the server's checks, for when the cryptography package is not installed (the one in
# Tests/TurnoServerTests/AuditCoverageTests.swift and Tests/schemathesis/run.py).
KNOWN_P256DH = "BO-IDI74FogXlsGI5XGwGsb3DFJidFba5IZ1jv_Zxj3dXNvBHiSIOhJZgkKpWHW5aohU9kv_msmjOBC4HxVPVOU"


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        FAILURES.append(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A turno process; can be killed and started again on the same port and database."""

    def __init__(self, binary, folder):
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        # Thirty simulated drones at 60× real time, so that a delivery on the fleet page completes in seconds.
        environment = dict(os.environ, TURNO_ADMIN_PASSWORD=ADMIN_PASSWORD, TURNO_RATE_TICKETS="off", TURNO_SIMULATE_DRONES="30", TURNO_SIM_SPEED="60")
        log = open(os.path.join(self.folder, "server.log"), "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--database", f"sqlite://{self.folder}/turno.sqlite", "--log-level", "warning"],
            env=environment, stdout=log, stderr=log)
        for _ in range(500):
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=1)
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the server did not become ready")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class API:
    def __init__(self, base):
        self.base, self.token = base, None

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.base + path, method=method, data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def sign_in(self):
        self.token = self.call("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["access_token"]


def base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def push_subscription(endpoint):
    """A push subscription as PushSubscription.toJSON() gives it: p256dh a 65-byte uncompressed P-256 point, auth 16
    bytes, both base64url. Nothing is ever decrypted with them: the endpoint is where nothing listens."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        p256dh = base64url(point)
    except ImportError:
        p256dh = KNOWN_P256DH
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": base64url(os.urandom(16))}}


def browser(window="1280,800"):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={window}",
                     "--autoplay-policy=no-user-gesture-required", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def wait_for(driver, condition, timeout, what):
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: condition(d))
        check(True, what)
        return True
    except Exception:
        check(False, f"{what} (waited {timeout} s)")
        return False


def script_errors(driver):
    """Errors the page logged since the last call: script errors, CSP violations, failed requests."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def shoot(driver, folder, name, size):
    """Shows the page at `size` ("w,h"; a phone below 600 px wide), saves `name`.png, and returns by how many pixels
    the page is wider than that (0 or less: no sideways scrolling). Headless windows do not get narrower than about
    500 px, so the size is emulated rather than set on the window."""
    width, height = (int(n) for n in size.split(","))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    time.sleep(0.6)
    driver.save_screenshot(os.path.join(folder, f"{name}.png"))
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return overflow


def page_figures(driver):
    """Bytes transferred for the document and everything it loaded, and the first contentful paint."""
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    time.sleep(0.3)  # module scripts may still fetch their imports
    return driver.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        const resources = performance.getEntriesByType('resource');
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return {bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
                requests: 1 + resources.length, first_render_ms: fcp ? fcp.startTime : null};
    """)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--turno", required=True)
    parser.add_argument("--screenshots", default="screenshots")
    parser.add_argument("--measure", action="store_true")
    arguments = parser.parse_args()
    os.makedirs(arguments.screenshots, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="turno-e2e-")
    server = Server(os.path.abspath(arguments.turno), folder)
    server.start()
    drivers = []
    figures = {}
    staff = None
    try:
        api = API(server.base)
        api.sign_in()

        # A new install: sign in on the administration page, which guides the first start.
        staff = browser()
        drivers.append(staff)
        staff.get(f"{server.base}/admin")
        staff.find_element(By.NAME, "username").send_keys("admin")
        staff.find_element(By.NAME, "password").send_keys(ADMIN_PASSWORD)
        staff.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(staff, lambda d: d.current_url.endswith("/admin") and d.find_element(By.ID, "first-start").is_displayed(), 10,
                 "signing in on a new install leads to the administration page with its first-start checklist")
        step = lambda d, name: d.find_element(By.CSS_SELECTOR, f'#first-start-steps li[data-step="{name}"]')
        check(step(staff, "password").get_attribute("data-done") == "true", "the password chosen with TURNO_ADMIN_PASSWORD counts as changed")
        check(step(staff, "branch").get_attribute("data-next") == "true", "creating a branch is the next step")
        check(staff.find_element(By.ID, "overview-empty").is_displayed() and not staff.find_element(By.ID, "overview-board").is_displayed(),
              "with no branch the overview says what to do instead of showing empty tables")
        check(not staff.find_element(By.CSS_SELECTOR, ".live-dot").is_displayed(), "with no branch there is no live dot left connecting")
        check([a.get_attribute("pathname") for a in staff.find_elements(By.CSS_SELECTOR, ".staff-nav ul a")]
              == ["/", "/console", "/admin", "/reports", "/complaints", "/schedule", "/fleet", "/sessions", "/docs"],
              "the staff bar links home, the console, administration, reports, complaints, schedule, fleet, sessions and the API")
        shoot(staff, arguments.screenshots, "admin-first-start", "1280,800")

        created = api.call("POST", "/api/v1/branches", {"name": "Via Roma"})
        branch, public_id = created["id"], created["public_id"]
        parcels = api.call("POST", f"/api/v1/branches/{branch}/services", {"name": "Parcels", "prefix": "A"})["id"]
        api.call("POST", f"/api/v1/branches/{branch}/services", {"name": "Pensions", "prefix": "B"})
        queue = api.call("POST", f"/api/v1/branches/{branch}/queues", {"name": "Desk 3", "counter": "3", "services": [parcels]})["id"]

        customer, display = browser("390,844"), browser("1280,720")
        drivers += [customer, display]

        # The display, following the branch.
        display.get(f"{server.base}/b/{public_id}/display")
        figures["display"] = page_figures(display)
        wait_for(display, lambda d: d.execute_script("return (window.turnoLive || []).some(c => c.state === 'live')"), 10, "the display connects live")

        # Kiosk: issue a ticket for Parcels; Pensions has no open counter and is disabled.
        customer.get(f"{server.base}/b/{public_id}/kiosk")
        figures["kiosk"] = page_figures(customer)
        buttons = {b.get_attribute("data-service-id"): b for b in customer.find_elements(By.CSS_SELECTOR, "button.kiosk-service[data-service-id]")}
        check(set(buttons) == {str(parcels), str(parcels + 1)}, "the kiosk shows a button per service")
        check(not buttons[str(parcels)].get_attribute("disabled") and buttons[str(parcels + 1)].get_attribute("disabled") is not None,
              "a service no open counter serves is disabled")
        buttons[str(parcels)].click()
        wait_for(customer, lambda d: "A001" in d.find_element(By.CSS_SELECTOR, ".receipt").text, 5, "the kiosk shows ticket A001")
        link = customer.find_element(By.ID, "receipt-link").text
        check(link.startswith(server.base + "/t/"), "the kiosk shows the ticket page's link")
        token = link.rsplit("/t/", 1)[1]
        wait_for(customer, lambda d: d.execute_script("const i = document.querySelector('.receipt img[src^=\"/qr/\"]'); return i && i.complete && i.naturalWidth > 0"),
                 5, "the kiosk shows the ticket's QR code")
        customer.save_screenshot(os.path.join(arguments.screenshots, "kiosk.png"))

        # The customer's ticket page.
        customer.get(f"{server.base}/t/{token}")
        figures["ticket"] = page_figures(customer)
        state = lambda d: d.find_element(By.ID, "ticket-state").get_attribute("data-state")
        check(state(customer) == "waiting", "the ticket page shows the ticket waiting")
        check("A001" in customer.find_element(By.ID, "ticket-number").text, "the ticket page shows the number")
        wait_for(customer, lambda d: d.execute_script("return (window.turnoLive || []).some(c => c.state === 'live')"), 10, "the ticket page connects live")
        customer.save_screenshot(os.path.join(arguments.screenshots, "ticket.png"))

        # "Tell me when it's nearly my turn": while the ticket waits the page offers the ways this server can send. It has
        # VAPID keys but no mail server and no Telegram bot, so push only: "Notify me", and no e-mail form or Telegram link.
        offered = lambda d, element: d.find_element(By.ID, element).is_displayed()
        wait_for(customer, lambda d: offered(d, "ticket-alerts") and offered(d, "alerts-push"), 5,
                 "the waiting ticket's page shows the alerts box, offering push")
        check(customer.find_element(By.ID, "alerts-push").text == "Notify me", "the push button says Notify me")
        check(not offered(customer, "alerts-email-form") and not offered(customer, "alerts-telegram") and not offered(customer, "alerts-on-box"),
              "with no mail server or Telegram bot set up there is no e-mail form or Telegram link, and no alert is on yet")
        # Headless Chromium has service workers, the Push API and a Notification permission that can be granted, but no
        # push service it can reach: pushManager.subscribe() never completes (or fails), so the test does not click
        # "Notify me" through a real subscription. It asks for the alerts itself, as the page would with the subscription
        # the browser gave it, with an endpoint where nothing listens (the server's sends to it simply fail), and checks
        # that the page lists it once it reads the ticket's alerts again (it does when the customer comes back to it).
        follower = API(server.base).call("POST", f"/api/v1/tickets/{token}/followers",
                                         {"channel": "push", "subscription": push_subscription("http://127.0.0.1:9/push"), "language": "en"})
        check(follower and follower.get("channel") == "push", "the ticket's link asks for push alerts through the API")
        customer.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
        alerts_on = lambda d: d.execute_script("return [...document.querySelectorAll('#alerts-on li')].map((li) => [li.querySelector('.ticket-alerts-channel').textContent, li.querySelector('button')?.textContent])")
        wait_for(customer, lambda d: offered(d, "alerts-on-box") and alerts_on(d) == [["Browser notifications", "Stop"]], 5,
                 "back on the page, it lists the push alert as on, with a Stop button")
        check(not offered(customer, "alerts-push"), "with push on, Notify me is no longer offered")
        customer.find_element(By.CSS_SELECTOR, "#alerts-on li button").click()
        wait_for(customer, lambda d: not offered(d, "alerts-on-box") and not alerts_on(d) and offered(d, "alerts-push")
                 and "Alerts stopped: Browser notifications." in d.find_element(By.ID, "alerts-message").text, 5,
                 "Stop removes the push alert, says so and offers Notify me again")
        check(API(server.base).call("GET", f"/api/v1/tickets/{token}/followers")["items"] == [], "the API lists no alert on the ticket any more")

        # The console (signed in already): choose the counter.
        staff.get(f"{server.base}/console")
        wait_for(staff, lambda d: d.current_url.endswith("/console") and d.find_elements(By.ID, "counter-select"), 10, "the staff bar's session opens the console")
        figures["console"] = page_figures(staff)
        staff.execute_script("const s = document.getElementById('counter-select'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true}));", str(queue))
        wait_for(staff, lambda d: "A001" in d.find_element(By.ID, "waiting-list").text, 5, "the console lists A001 waiting")
        wait_for(staff, lambda d: d.find_element(By.ID, "call-next").is_enabled(), 5, "call next is enabled")

        # Call next; the display and the ticket page must show it within a second.
        display.execute_script("""
            window.__shownAt = null;
            const observer = new MutationObserver(() => {
                if (!window.__shownAt && document.querySelector('#counters').textContent.includes('A001')) window.__shownAt = Date.now();
            });
            observer.observe(document.body, {subtree: true, childList: true, characterData: true});
        """)
        pressed = staff.execute_script("const at = Date.now(); document.getElementById('call-next').click(); return at;")
        wait_for(display, lambda d: d.execute_script("return window.__shownAt") is not None, 1.0, "the display shows A001 within one second")
        wait_for(customer, lambda d: state(d) == "called", 1.0, "the ticket page shows the call within one second")
        shown = display.execute_script("return window.__shownAt")
        if shown:
            figures["call_to_display_ms"] = shown - pressed
        check(customer.find_element(By.ID, "called-overlay").is_displayed(), "the ticket page shows the full-screen call")
        # The log is for screen readers (not visible), so it is read as textContent.
        announced = lambda d: d.execute_script("return document.getElementById('announcements').textContent")
        wait_for(display, lambda d: "A 0 0 1" in announced(d) and "3" in announced(d), 2, "the display queued an announcement of A 0 0 1 at counter 3")
        check(len(display.execute_script("return (window.turnoDisplay.queue || []).concat(window.turnoDisplay.spoken || [])")) >= 1,
              "the announcement is in the display's queue")
        wait_for(staff, lambda d: "A001" in d.find_element(By.ID, "current-ticket").text, 2, "the console shows A001 as the current ticket")

        # A ticket page opened after the call shows the called state.
        late = browser("420,860")
        drivers.append(late)
        late.get(f"{server.base}/t/{token}")
        check(state(late) == "called", "a ticket page opened after the call shows it called")

        for name, driver in (("kiosk and ticket page", customer), ("display", display), ("console", staff), ("late ticket page", late)):
            errors = script_errors(driver)
            check(not errors, f"the {name} logged no script errors or CSP violations" + (f": {errors}" if errors else ""))

        # The operator serves A001: the console's "My day" counts it, and the ticket page says it was served.
        wait_for(staff, lambda d: d.find_element(By.ID, "finish").is_enabled(), 5, "the console may finish A001")
        staff.execute_script("document.getElementById('finish').click()")
        wait_for(staff, lambda d: "A001" in d.find_element(By.ID, "console-announce").text, 5, "the console says A001 was served")
        my_day = lambda d: d.find_element(By.ID, "my-day")
        wait_for(staff, lambda d: int(my_day(d).get_attribute("data-served") or 0) >= 1 and my_day(d).is_displayed(), 5,
                 "the console's My day counts at least one ticket served")
        check(my_day(staff).find_element(By.CSS_SELECTOR, '[data-figure="served"]').text not in ("", "0", "—"), "My day shows the number served")
        wait_for(customer, lambda d: state(d) == "served" and not d.find_element(By.ID, "called-overlay").is_displayed(), 5,
                 "the ticket page shows A001 served")

        # The customer reports a problem about the served ticket.
        wait_for(customer, lambda d: d.find_element(By.ID, "complaint-open").is_displayed(), 5, "the served ticket's page offers to report a problem")
        customer.execute_script("document.getElementById('complaint-open').scrollIntoView({block: 'center'})")
        customer.find_element(By.ID, "complaint-open").click()
        customer.find_element(By.ID, "complaint-text").send_keys("The clerk left the counter for ten minutes while serving me.")
        customer.find_element(By.ID, "complaint-send").click()
        wait_for(customer, lambda d: d.find_element(By.ID, "complaint-state").text == "Received" and not d.find_element(By.ID, "complaint-open").is_displayed(),
                 5, "after sending, the ticket page shows the report as received")
        errors = [e for e in script_errors(customer) if "/complaint" not in e]  # "none yet" is a 404, logged as a failed request
        check(not errors, "the ticket page logged no script errors while reporting a problem" + (f": {errors}" if errors else ""))

        # Cut every live connection: kill the server, start it again; the display recovers and shows the next call.
        second = api.call("POST", f"/api/v1/branches/{branch}/tickets", {"service": parcels})
        server.kill()
        wait_for(display, lambda d: d.execute_script("return (window.turnoLive || []).every(c => c.state !== 'live')"), 20,
                 "the display notices the lost connection")
        server.start()
        wait_for(display, lambda d: d.execute_script("return (window.turnoLive || []).some(c => c.state === 'live')"), 30,
                 "the display reconnects by itself")
        api.sign_in()
        api.call("POST", f"/api/v1/queues/{queue}/call-next")
        wait_for(display, lambda d: second["number"] in d.find_element(By.ID, "counters").text, 5,
                 f"after reconnecting the display shows the next call ({second['number']})")

        # Transfer the current ticket to another counter by name, through the console's dialog.
        desk4 = api.call("POST", f"/api/v1/branches/{branch}/queues", {"name": "Desk 4", "counter": "4", "services": [parcels]})["id"]
        wait_for(staff, lambda d: second["number"] in d.find_element(By.ID, "current-ticket").text, 10, f"the console shows {second['number']} as current")
        # A script click: the toast about the restart may still cover the button.
        staff.execute_script("document.getElementById('transfer').click()")
        wait_for(staff, lambda d: d.find_element(By.ID, "transfer-dialog").is_displayed()
                 and any("Desk 4" in o.text for o in d.find_elements(By.CSS_SELECTOR, "#transfer-target option")), 5,
                 "the transfer dialog offers the other counter")
        groups = [g.get_attribute("label") for g in staff.find_elements(By.CSS_SELECTOR, "#transfer-target optgroup")]
        check(groups == ["Another service", "A counter"], f"with no colleague at a counter, services and counters are offered (got {groups})")
        staff.execute_script("""const s = document.getElementById('transfer-target');
            s.value = [...s.options].find((o) => o.text.includes('Desk 4')).value;""")
        staff.execute_script("document.querySelector('#transfer-form button[value=confirm]').click()")
        wait_for(staff, lambda d: second["number"] in d.find_element(By.ID, "console-announce").text, 5, "the console says the ticket was transferred")
        moved = api.call("GET", f"/api/v1/queues/{desk4}/tickets")["items"]
        check([item["number"] for item in moved] == [second["number"]] and moved[0].get("transferred_at"), "the ticket waits at Desk 4, marked transferred")
        time.sleep(1)
        check(second["number"] in display.find_element(By.ID, "last-calls").text, "the display keeps the transferred ticket in its last calls")
        staff.get(f"{server.base}/console")  # its counter list predates Desk 4
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, f'#counter-select option[value="{desk4}"]'), 5, "the console lists Desk 4")
        staff.execute_script("const s = document.getElementById('counter-select'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true}));", str(desk4))
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, "#waiting-rows .transfer-tag"), 5, "Desk 4's line says why the ticket stands first: it was transferred")
        shoot(staff, arguments.screenshots, "console-transfer", "1280,800")

        # Administration (what the console logged while the server was down is not the admin page's).
        script_errors(staff)
        staff.get(f"{server.base}/admin#overview")
        figures["admin"] = page_figures(staff)
        errors = script_errors(staff)
        check(not errors, "the admin page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        wait_for(staff, lambda d: "Desk 3" in d.find_element(By.ID, "overview").text or "3" in d.find_element(By.ID, "overview").text, 5,
                 "the admin overview shows the branch's counter")
        wait_for(staff, lambda d: all(step(d, name).get_attribute("data-done") == "true" for name in ("branch", "services", "counters", "kiosk", "display")), 5,
                 "the checklist ticks the branch, its services and counters, and the first openings of its kiosk and display")
        check(step(staff, "operator").get_attribute("data-next") == "true", "an operator account is the step left")
        api.call("POST", "/api/v1/users", {"username": "anna", "password": "anna-password-1", "role": "operator", "branch_ids": [branch]})
        staff.refresh()
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, "#first-start-steps li") and not d.find_element(By.ID, "first-start").is_displayed(), 5,
                 "with every step done the checklist goes away")

        # The branch's customer alerts: "nearly your turn" when 2 are ahead (the standard is 3), and no e-mail; saved,
        # they are there again after a reload, and the API agrees.
        script_errors(staff)
        alerts_form = lambda d: d.find_element(By.ID, "alerts-form")
        alert_field = lambda d, name: alerts_form(d).find_element(By.NAME, name)

        def manage_branch(d):
            """Opens the branch's set-up (services, counters and alerts) from the branch list."""
            d.get(f"{server.base}/admin#branches")
            manage = lambda d: d.execute_script("""
                const row = [...document.querySelectorAll('#branch-list tbody tr')].find((r) => r.textContent.includes('Via Roma'));
                return row && [...row.querySelectorAll('button')].find((b) => b.textContent === 'Services and counters');""")
            if not wait_for(d, manage, 5, "the branch list offers Via Roma's services and counters"):
                return False
            manage(d).click()
            return wait_for(d, lambda d: alerts_form(d).is_displayed() and alerts_form(d).get_attribute("data-branch") == str(branch), 5,
                            "the branch's set-up shows its customer alerts")

        manage_branch(staff)
        check(alert_field(staff, "near_ahead_on").is_selected() and alert_field(staff, "near_ahead").get_attribute("value") == "3"
              and alert_field(staff, "push").is_selected() and alert_field(staff, "email").is_selected(),
              "a new branch has the standard alerts: nearly your turn with 3 ahead, push and e-mail on")
        alert_field(staff, "near_ahead").clear()
        alert_field(staff, "near_ahead").send_keys("2")
        alert_field(staff, "email").click()
        alerts_form(staff).find_element(By.CSS_SELECTOR, "[type=submit]").click()
        wait_for(staff, lambda d: "Customer alerts of Via Roma saved" in d.find_element(By.ID, "admin-announce").text, 5, "saving the alerts says so")
        check(not alerts_form(staff).find_element(By.CSS_SELECTOR, ".form-error").text, "the alerts form shows no error")
        staff.refresh()
        if manage_branch(staff):
            check(alert_field(staff, "near_ahead_on").is_selected() and alert_field(staff, "near_ahead").get_attribute("value") == "2"
                  and not alert_field(staff, "email").is_selected() and alert_field(staff, "push").is_selected(),
                  "after a reload the alerts say 2 ahead, e-mail off, push still on")
        settings = api.call("GET", f"/api/v1/branches/{branch}/alerts")
        check(settings["near_ahead"] == 2 and settings["email"] is False and settings["push"] is True,
              f"GET /api/v1/branches/{{id}}/alerts agrees (got near_ahead {settings['near_ahead']}, email {settings['email']}, push {settings['push']})")

        # Webhooks: an endpoint for the ticket events, where nothing listens. Its secret is shown once; a ticket issued
        # afterwards appears in its delivery log, pending a retry or failed; disabled, its card says so.
        hook_url = "http://127.0.0.1:9/hook"
        staff.get(f"{server.base}/admin#webhooks")
        family = lambda d: d.find_elements(By.CSS_SELECTOR, '#webhook-families input[value="ticket.*"]')
        wait_for(staff, lambda d: family(d) and d.find_element(By.ID, "webhook-form").is_displayed(), 5, "the webhooks section offers the ticket.* events")
        staff.find_element(By.CSS_SELECTOR, "#webhook-form input[name=url]").send_keys(hook_url)
        family(staff)[0].click()
        staff.find_element(By.CSS_SELECTOR, "#webhook-form [type=submit]").click()
        wait_for(staff, lambda d: d.find_element(By.ID, "webhook-secret").is_displayed()
                 and d.find_element(By.ID, "webhook-secret-value").get_attribute("value").startswith("whsec_"), 5,
                 "creating the webhook shows its secret, starting whsec_")
        # Read in one script each time: the cards and the log's rows are replaced when read again.
        card = lambda d: d.execute_script("""
            const card = [...document.querySelectorAll('#webhook-list article.webhook')].find((c) => c.querySelector('.webhook-url').textContent === arguments[0]);
            return card && {enabled: card.dataset.enabled, text: card.textContent, badge: card.querySelector('.webhook-head .state-badge').textContent,
                            banner: card.querySelector('.webhook-banner')?.textContent ?? '',
                            rows: [...card.querySelectorAll('.webhook-log tbody tr')].map((row) => [...row.cells].map((cell) => cell.textContent))};""", hook_url)
        press = lambda d, selector, text: d.execute_script("""
            const card = [...document.querySelectorAll('#webhook-list article.webhook')].find((c) => c.querySelector('.webhook-url').textContent === arguments[0]);
            const node = card && [...card.querySelectorAll(arguments[1])].find((n) => n.textContent === arguments[2]);
            if (node) node.click();
            return Boolean(node);""", hook_url, selector, text)
        wait_for(staff, lambda d: (card(d) or {}).get("enabled") == "true" and "ticket.*" in card(d)["text"], 5,
                 "the webhook's card lists it enabled, for ticket.*")
        hooked = api.call("POST", f"/api/v1/branches/{branch}/tickets", {"service": parcels})
        check(press(staff, ".webhook-log summary", "Deliveries"), "the webhook's card has a delivery log to unfold")
        refreshed = [time.time()]

        def delivered(d):
            """A ticket.issued row, pending or failed; the log is read when unfolded, and again here with Refresh once a second."""
            if any(len(row) > 2 and row[1].startswith("ticket.issued") and row[2] in ("Pending", "Failed") for row in (card(d) or {}).get("rows", [])):
                return True
            if time.time() - refreshed[0] > 1:
                refreshed[0] = time.time()
                press(d, ".webhook-log button", "Refresh")
            return False

        wait_for(staff, delivered, 10, f"issuing {hooked['number']} puts a ticket.issued delivery in the webhook's log, pending or failed (nothing listens on port 9)")
        check(press(staff, ".row-actions button", "Disable"), "the webhook's card has a Disable button")
        wait_for(staff, lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed(), 5, "disabling asks first")
        staff.find_element(By.ID, "confirm-ok").click()
        wait_for(staff, lambda d: (card(d) or {}).get("enabled") == "false" and card(d)["badge"] == "Disabled" and card(d)["banner"].startswith("Disabled:"), 5,
                 "the disabled webhook's card says Disabled, with a banner")
        check([h["enabled"] for h in api.call("GET", "/api/v1/webhooks")["items"] if h["url"] == hook_url] == [False], "the API lists the webhook disabled")
        errors = script_errors(staff)
        check(not errors, "the admin page logged no script errors while setting alerts and webhooks" + (f": {errors}" if errors else ""))

        # Reports: today's figures as tiles, SVG charts and a table; the CSV and PDF downloads with the browser's session.
        script_errors(staff)
        staff.get(f"{server.base}/reports")
        figures["reports"] = page_figures(staff)
        tile = lambda d, name: d.find_element(By.CSS_SELECTOR, f'#report-tiles [data-figure="{name}"] .stat-value').text
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, '#report-tiles [data-figure="served"]') and tile(d, "served") not in ("", "0", "—"), 10,
                 "the reports page shows today's figures with tickets served")
        tiles = {li.get_attribute("data-figure"): li.find_element(By.CSS_SELECTOR, ".stat-value").text for li in staff.find_elements(By.CSS_SELECTOR, "#report-tiles li")}
        check(int(tiles.get("issued", "0")) >= 2 and int(tiles.get("served", "0")) >= 1 and all(tiles.values()),
              f"the tiles count the tickets issued and served and none is blank (got {tiles})")
        volume = staff.find_elements(By.CSS_SELECTOR, '#chart-volume svg[role="img"]')
        check(volume and "issued" in (volume[0].get_attribute("aria-label") or "") and volume[0].find_elements(By.CSS_SELECTOR, "title")
              and staff.find_elements(By.CSS_SELECTOR, "#chart-volume svg rect.bar-served") and staff.find_elements(By.CSS_SELECTOR, "#chart-volume svg rect.bar-issued"),
              "the volume chart is an SVG image with issued and served bars, a title and a label that describes it")
        wait_chart = staff.find_elements(By.CSS_SELECTOR, '#chart-wait svg[role="img"]')
        check(wait_chart and "median" in (wait_chart[0].get_attribute("aria-label") or "") and staff.find_elements(By.CSS_SELECTOR, "#chart-wait svg path.line-p50"),
              "the waiting-time chart is an SVG image with its median line and a label")
        check(staff.find_elements(By.CSS_SELECTOR, "#chart-volume svg text.tick") and staff.find_elements(By.CSS_SELECTOR, "#chart-volume svg text.axis-name"),
              "the charts' axes have labelled ticks")
        table_rows = staff.find_elements(By.CSS_SELECTOR, "#report-table tbody tr")
        check(len(table_rows) == 1 and "Total" in staff.find_element(By.CSS_SELECTOR, "#report-table tfoot").text,
              "the table has a row for today and the total")
        staff.set_script_timeout(15)
        download = lambda url: staff.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], {credentials: 'same-origin'}).then(async (r) => {
                const bytes = new Uint8Array(await r.arrayBuffer());
                done({status: r.status, type: r.headers.get('Content-Type') || '', head: String.fromCharCode(...bytes.slice(0, 5)), size: bytes.length});
            }).catch((e) => done({status: 0, type: '', head: String(e), size: 0}));""", url)
        csv = download(staff.find_element(By.ID, "download-csv").get_attribute("href"))
        check(csv["status"] == 200 and csv["type"].startswith("text/csv") and csv["size"] > 0, f"the CSV link answers 200 text/csv (got {csv})")
        pdf = download(staff.find_element(By.ID, "download-pdf").get_attribute("href"))
        check(pdf["status"] == 200 and pdf["type"].startswith("application/pdf") and pdf["head"] == "%PDF-", f"the PDF link answers 200 application/pdf, %PDF- (got {pdf})")
        # The same PDF, rendered by poppler's pdftoppm as a reader would see its first page.
        request = urllib.request.Request(server.base + "/api/v1/reports.pdf?group=hour", headers={"Authorization": "Bearer " + api.token})
        with urllib.request.urlopen(request, timeout=10) as response:
            pdf_path = os.path.join(arguments.screenshots, "report.pdf")
            with open(pdf_path, "wb") as file:
                file.write(response.read())
        rendered = subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", pdf_path, os.path.join(arguments.screenshots, "report-pdf")])
        check(rendered.returncode == 0 and os.path.getsize(os.path.join(arguments.screenshots, "report-pdf.png")) > 10_000, "pdftoppm renders the report PDF's first page")
        errors = script_errors(staff)
        check(not errors, "the reports page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        overflow = shoot(staff, arguments.screenshots, "reports", "1280,800")
        check(overflow <= 0, f"the reports page at 1280×800 does not scroll sideways (by {overflow} px)")
        overflow = shoot(staff, arguments.screenshots, "reports-390", "390,844")
        check(overflow <= 0, f"the reports page at 390×844 does not scroll sideways (by {overflow} px)")
        # Staff performance: one row per staff member.
        staff.find_element(By.ID, "report-staff").click()
        wait_for(staff, lambda d: "Staff member" in d.find_element(By.CSS_SELECTOR, "#report-table thead").text
                 and "admin" in d.find_element(By.CSS_SELECTOR, "#report-table tbody").text, 5, "the staff performance view lists the admin who served")
        check("group=operator" in staff.current_url, "the address keeps the staff performance view")
        # A day when nothing happened says so instead of drawing empty charts.
        staff.get(f"{server.base}/reports?range=yesterday")
        wait_for(staff, lambda d: d.find_element(By.ID, "report-empty").is_displayed() and not d.find_element(By.ID, "report-body").is_displayed(), 5,
                 "a period with nothing in it shows the empty state")
        staff.get(f"{server.base}/reports?from=2020-01-01&to=2026-12-31")
        wait_for(staff, lambda d: "731" in d.find_element(By.ID, "report-problem").text, 5, "the API's refusal of a range over 731 days is shown in the alert")

        # Complaints: a manager of the branch finds the customer's report, takes it on and replies; the ticket page shows the reply.
        marta = api.call("POST", "/api/v1/users", {"username": "marta", "password": "marta-password-1", "role": "manager", "branch_ids": [branch]})["id"]
        manager = browser()
        drivers.append(manager)
        manager.get(f"{server.base}/complaints")
        manager.find_element(By.NAME, "username").send_keys("marta")
        manager.find_element(By.NAME, "password").send_keys("marta-password-1")
        manager.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(manager, lambda d: d.current_url.endswith("/complaints") and "A001" in d.find_element(By.ID, "complaint-rows").text, 10,
                 "the manager's complaints inbox lists the complaint about A001")
        check("Open" in manager.find_element(By.ID, "complaint-rows").text, "the complaint is open")
        manager.find_element(By.CSS_SELECTOR, "#complaint-rows a.complaint-link").click()
        wait_for(manager, lambda d: d.find_element(By.ID, "complaint-detail").is_displayed()
                 and "ten minutes" in d.find_element(By.ID, "detail-text").text, 5, "opening it shows the customer's text")
        check([o.text for o in manager.find_elements(By.CSS_SELECTOR, "#action-assignee option")] == ["Nobody", "marta (you)"],
              "a manager may assign it to themselves")
        manager.execute_script("document.getElementById('action-assignee').value = arguments[0];", str(marta))
        reply = "We are sorry: the counter will not be left alone again."
        manager.find_element(By.ID, "action-acknowledge").click()
        wait_for(manager, lambda d: "note or a reply" in d.find_element(By.ID, "action-error").text, 3, "a state change without a note or a reply is refused, saying why")
        manager.find_element(By.ID, "action-reply").send_keys(reply)
        manager.find_element(By.ID, "action-note").send_keys("Spoke with the clerk.")
        manager.find_element(By.ID, "action-acknowledge").click()
        wait_for(manager, lambda d: d.find_element(By.ID, "detail-state").get_attribute("data-state") == "acknowledged"
                 and reply in d.find_element(By.ID, "detail-reply").text, 5, "the complaint is being looked at, with the reply")
        timeline = manager.find_element(By.ID, "detail-timeline").text
        check("Spoke with the clerk." in timeline and "marta" in timeline, "the timeline shows the note and who wrote it")
        check("marta" in manager.find_element(By.ID, "complaint-rows").text, "the inbox shows it assigned to the manager")
        errors = script_errors(manager)
        check(not errors, "the complaints page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        manager.execute_script("window.scrollTo(0, 0)")
        overflow = shoot(manager, arguments.screenshots, "complaints", "1280,800")
        check(overflow <= 0, f"the complaints page at 1280×800 does not scroll sideways (by {overflow} px)")
        customer.get(f"{server.base}/t/{token}")
        wait_for(customer, lambda d: reply in d.find_element(By.ID, "complaint-reply").text
                 and d.find_element(By.ID, "complaint-state").text == "Being looked at", 5, "the ticket page shows the branch's reply")
        customer.execute_script("document.getElementById('ticket-complaint').scrollIntoView({block: 'end'})")
        overflow = shoot(customer, arguments.screenshots, "ticket-complaint", "390,844")
        check(overflow <= 0, f"the ticket page with a complaint at 390×844 does not scroll sideways (by {overflow} px)")

        # The home page: the branch with its links, and QR codes that a phone reads back as the kiosk and display links.
        staff.get(f"{server.base}/")
        codes = staff.find_elements(By.CSS_SELECTOR, ".branch-card figure.qr svg")
        check(len(codes) == 2, "the home page shows the QR codes of the branch's kiosk and display")
        for code, page in zip(codes, ("kiosk", "display")):
            image = os.path.join(folder, f"qr-{page}.png")
            code.screenshot(image)
            read = subprocess.run(["zbarimg", "--raw", "-q", image], capture_output=True, text=True).stdout.strip()
            check(read == f"{server.base}/b/{public_id}/{page}", f"the {page} QR code reads back as the {page} link (read {read!r})")
        shoot(staff, arguments.screenshots, "home", "1280,800")

        # The athlete page of the sessions module: statistics and charts drawn from the API.
        now = time.time()
        batch = [{"user_id": "runner-7", "sport": sport, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days * 86400 - 3600)),
                  "duration_s": 1800 + days * 60, "distance_m": 5000 + days * 100, "avg_hr_bpm": 140 + days % 20}
                 for days, sport in zip(range(0, 40, 2), ["run", "ride", "run", "walk"] * 5)]
        api.call("POST", "/api/v1/sessions/batch", {"sessions": batch})
        script_errors(staff)
        staff.get(f"{server.base}/sessions/users/runner-7")
        figures["sessions"] = page_figures(staff)
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-distance svg rect.bar"), 5, "the athlete page draws the distance chart")
        wait_for(staff, lambda d: "20" in d.find_element(By.ID, "stats-totals").text, 5, "the athlete page shows the 20 sessions")
        check(len(staff.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) >= 20, "the athlete page lists the sessions")
        errors = script_errors(staff)
        check(not errors, "the athlete page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        staff.save_screenshot(os.path.join(arguments.screenshots, "sessions.png"))

        # The athlete list: the athlete, a search that finds nobody, the link to the athlete page and back.
        script_errors(staff)
        staff.get(f"{server.base}/sessions")
        figures["athletes"] = page_figures(staff)
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, '#athletes-rows a[href="/sessions/users/runner-7"]'), 5, "the athlete list links runner-7")
        row = staff.find_element(By.CSS_SELECTOR, "#athletes-rows tr").text
        check("20" in row and "Run" in row, "the athlete list shows runner-7's 20 sessions and sports")
        staff.find_element(By.ID, "athlete-q").send_keys("nobody")
        wait_for(staff, lambda d: d.find_element(By.ID, "athletes-empty").is_displayed() and not d.find_elements(By.CSS_SELECTOR, "#athletes-rows tr"), 5,
                 "a search that matches nobody says so")
        check(staff.current_url.endswith("/sessions?q=nobody"), "the search is kept in the address")
        staff.find_element(By.ID, "athlete-q").clear()
        staff.find_element(By.ID, "athlete-q").send_keys("runner")
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, '#athletes-rows a[href="/sessions/users/runner-7"]'), 5, "a prefix finds runner-7 again")
        # A phone 390 px wide (headless windows do not get that narrow): neither the page nor the table scrolls sideways.
        staff.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        time.sleep(0.3)
        check(staff.execute_script("const w = document.querySelector('#athletes .table-wrap');"
                                   "return document.documentElement.scrollWidth <= 390 && w.scrollWidth <= w.clientWidth"),
              "the athlete list fits 390 px without scrolling sideways")
        staff.save_screenshot(os.path.join(arguments.screenshots, "athletes-390.png"))
        staff.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        staff.find_element(By.CSS_SELECTOR, '#athletes-rows a[href="/sessions/users/runner-7"]').click()
        # (user.js puts its filters in the address: the path is what tells the page.)
        wait_for(staff, lambda d: d.execute_script("return location.pathname") == "/sessions/users/runner-7"
                 and d.find_elements(By.CSS_SELECTOR, '.sessions-back a[href="/sessions"]'), 5,
                 "the athlete's link opens their page, which links back to the list")
        staff.get(f"{server.base}/sessions/users/nobody-9")
        check("No athlete called nobody-9" in staff.find_element(By.TAG_NAME, "main").text, "an unknown athlete's page says there is no such athlete")
        errors = [e for e in script_errors(staff) if "nobody-9" not in e]  # the 404 of that page is logged as a failed request
        check(not errors, "the athlete list logged no script errors or CSP violations" + (f": {errors}" if errors else ""))

        # The fleet's dispatch screen: simulated drones on the live map, a delivery posted with the form and followed live.
        script_errors(staff)
        staff.get(f"{server.base}/fleet")
        figures["fleet"] = page_figures(staff)
        wait_for(staff, lambda d: "30 drones" in d.find_element(By.ID, "map-summary").text, 10, "the fleet map shows the 30 simulated drones")
        for field, value in (("origin-x", "2000"), ("origin-y", "2000"), ("destination-x", "4000"), ("destination-y", "3000"), ("weight", "1.5")):
            element = staff.find_element(By.ID, field)
            element.clear()
            element.send_keys(value)
        staff.find_element(By.ID, "new-submit").click()
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, "#deliveries-rows tr"), 5, "the posted delivery appears in the table")
        wait_for(staff, lambda d: "Delivered" in d.find_element(By.ID, "deliveries-rows").text, 40, "the table follows the delivery live until a simulated drone delivers it")
        errors = script_errors(staff)
        check(not errors, "the fleet page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        staff.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.3)
        staff.save_screenshot(os.path.join(arguments.screenshots, "fleet.png"))

        # Schedule: a branch in Rome, in Italian, with two tills and an operator. Its tickets of today, moved a week back in the
        # database, stand for last week's arrivals: the forecast then asks for a counter in this half hour of today.
        rome = api.call("POST", "/api/v1/branches", {"name": "Piazza Duomo", "time_zone": "Europe/Rome", "language": "it"})
        rome_id, rome_public = rome["id"], rome["public_id"]
        accounts = api.call("POST", f"/api/v1/branches/{rome_id}/services", {"name": "Conti", "prefix": "C"})["id"]
        tills = [api.call("POST", f"/api/v1/branches/{rome_id}/queues", {"name": "Cassa", "counter": str(n), "services": [accounts]})["id"] for n in (1, 2)]
        luca = api.call("POST", "/api/v1/users", {"username": "luca", "password": "luca-password-1", "role": "operator", "branch_ids": [rome_id]})["id"]
        for _ in range(6):
            api.call("POST", f"/api/v1/branches/{rome_id}/tickets", {"service": accounts})
        for till in tills:
            while called := api.call("POST", f"/api/v1/queues/{till}/call-next"):
                api.call("POST", f"/api/v1/tickets/{called['id']}/finish")
        database = sqlite3.connect(os.path.join(folder, "turno.sqlite"), timeout=10)
        database.execute("UPDATE tickets SET issued_at_ms = issued_at_ms - ? WHERE branch_id = ?", (7 * 86_400_000, rome_id))
        database.commit()
        database.close()
        rome_now = datetime.datetime.now(ZoneInfo("Europe/Rome"))
        rome_today = rome_now.date().isoformat()
        # A shift hours away from now: the half hour the tickets came in has nobody planned.
        shift_from, shift_to = ("14:00", "18:00") if rome_now.hour < 12 else ("02:00", "06:00")

        script_errors(staff)
        staff.get(f"{server.base}/schedule?branch={rome_id}")
        figures["schedule"] = page_figures(staff)
        today_card = lambda d: d.find_element(By.CSS_SELECTOR, f'.day-card[data-date="{rome_today}"]')
        wait_for(staff, lambda d: d.find_elements(By.CSS_SELECTOR, f'.day-card[data-date="{rome_today}"]') and "Europe/Rome" in d.find_element(By.ID, "week-zone").text,
                 10, "the schedule page shows this week of the branch in Rome, with its time zone")
        check(len(staff.find_elements(By.CSS_SELECTOR, ".day-card")) == 7, "the week has seven days")
        template_form = staff.find_element(By.ID, "template-form")
        template_form.find_element(By.NAME, "name").send_keys("Pomeriggio")
        template_form.find_element(By.NAME, "from").send_keys(shift_from)
        template_form.find_element(By.NAME, "to").send_keys(shift_to)
        for day in ("sat", "sun"):
            template_form.find_element(By.CSS_SELECTOR, f'input[name=weekdays][value="{day}"]').click()
        template_form.find_element(By.CSS_SELECTOR, "[type=submit]").click()
        wait_for(staff, lambda d: "Pomeriggio" in d.find_element(By.ID, "schedule-announce").text
                 and d.find_elements(By.CSS_SELECTOR, "#assignment-template option:not([value=''])"), 5, "adding a shift template says so and offers it to assign")
        template = api.call("GET", f"/api/v1/branches/{rome_id}/schedule")["templates"][0]["id"]
        choose = lambda d, values: d.execute_script("""for (const [id, value] of Object.entries(arguments[0])) document.getElementById(id).value = String(value);""", values)
        choose(staff, {"assignment-template": template, "assignment-user": luca, "assignment-queue": tills[0]})
        staff.find_element(By.CSS_SELECTOR, "#assignment-form [type=submit]").click()
        wait_for(staff, lambda d: "luca" in today_card(d).find_element(By.CSS_SELECTOR, ".shift-list").text
                 and f"{shift_from}–{shift_to}" in today_card(d).find_element(By.CSS_SELECTOR, ".shift-list").text, 5,
                 "assigning luca puts his shift in today's column, with its hours")
        check("counter 1" in today_card(staff).find_element(By.CSS_SELECTOR, ".shift-list").text, "the shift says its counter")
        short = today_card(staff).find_elements(By.CSS_SELECTOR, ".coverage-table tr.slot-short")
        check(bool(short) and "short" in short[0].text and "0 planned" in short[0].text,
              "the half hour last week's customers came in is marked short of counters, in words" + (f" (got {short[0].text!r})" if short else ""))
        check("short" in staff.find_element(By.ID, "week-summary").text, "the week's summary counts the half hours short")
        # The same person at the other till at the same time: refused, with the server's reason by the form, which keeps its values.
        choose(staff, {"assignment-template": template, "assignment-user": luca, "assignment-queue": tills[1]})
        staff.find_element(By.CSS_SELECTOR, "#assignment-form [type=submit]").click()
        wait_for(staff, lambda d: "already works" in d.find_element(By.CSS_SELECTOR, "#assignment-form .form-error").text, 5,
                 "a double booking is refused with the reason next to the form")
        check(staff.find_element(By.ID, "assignment-user").get_attribute("value") == str(luca)
              and staff.find_element(By.ID, "assignment-queue").get_attribute("value") == str(tills[1]), "the refused form keeps what was chosen")
        check(staff.find_element(By.CSS_SELECTOR, "#assignment-form .form-error").get_attribute("role") == "alert", "the reason is an alert")
        today_card(staff).find_element(By.CSS_SELECTOR, ".shift-list button").click()
        wait_for(staff, lambda d: d.find_element(By.ID, "swap-shift").get_attribute("value").endswith(f"|{rome_today}")
                 and d.execute_script("return document.activeElement.id") == "swap-substitute", 3, "Swap… on a shift picks it in the swap form, ready for the substitute")
        # Opening hours through the form: 08:00–20:00 every day, and today closed for the patron saint's day.
        staff.find_element(By.ID, "hours-enabled").click()
        for day in ("mon", "sat", "sun"):
            staff.find_element(By.CSS_SELECTOR, f'.hours-day[data-day="{day}"] .range-editor > button').click()
            times = staff.find_elements(By.CSS_SELECTOR, f'.hours-day[data-day="{day}"] input.time-input')
            times[0].send_keys("8:00")
            times[1].send_keys("20:00")
        staff.find_element(By.ID, "hours-copy-monday").click()
        staff.find_element(By.ID, "special-add").click()
        staff.execute_script("const i = document.querySelector('#special-days input[name=date]'); i.value = arguments[0];"
                             "i.dispatchEvent(new Event('change', {bubbles: true}));", rome_today)
        staff.find_element(By.CSS_SELECTOR, "#special-days input[name=name]").send_keys("Festa del Patrono")
        staff.find_element(By.CSS_SELECTOR, "#hours-form [type=submit]").click()
        wait_for(staff, lambda d: "Opening hours of Piazza Duomo saved" in d.find_element(By.ID, "schedule-announce").text, 5, "saving the opening hours says so")
        hours = api.call("GET", f"/api/v1/branches/{rome_id}/hours")
        check(hours["opening_hours"]["week"]["wed"] == [{"from": "08:00", "to": "20:00"}] and hours["opening_hours"]["special_days"][0]["date"] == rome_today
              and hours["now"]["takes_tickets"] is False, f"the API has the hours, 8:00 read as 08:00, copied to the weekdays, and today closed (got {hours})")
        check("Festa del Patrono" in today_card(staff).text, "today's column says it is the closed special day")
        errors = [e for e in script_errors(staff) if "shift-assignments" not in e]  # the refused double booking is logged as a failed request
        check(not errors, "the schedule page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        # The kiosk, in the branch's Italian: closed today, for the holiday, and when it opens.
        script_errors(customer)
        customer.get(f"{server.base}/b/{rome_public}/kiosk")
        notice = lambda d: d.find_element(By.ID, "kiosk-notice")
        wait_for(customer, lambda d: notice(d).is_displayed() and "Festa del Patrono" in notice(d).text and "Apre domani alle 08:00" in notice(d).text, 5,
                 "the kiosk says the branch is closed today for the holiday and opens tomorrow at 08:00")
        check(customer.find_element(By.CSS_SELECTOR, "button.kiosk-service").get_attribute("disabled") is not None, "the kiosk's service cannot be chosen")
        errors = script_errors(customer)
        check(not errors, "the closed kiosk logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        customer.save_screenshot(os.path.join(arguments.screenshots, "kiosk-closed.png"))

        # Screenshots of every page at the sizes it is used at: staff desktops (1280×800), the display's screen
        # (1920×1080 and 1280×800), phones (390×844); no page scrolls sideways.
        pages = [
            ("home", staff, "/", ["1280,800", "390,844"]),
            ("console", staff, "/console", ["1280,800", "390,844"]),
            ("admin", staff, "/admin#overview", ["1280,800", "390,844"]),
            ("reports", staff, "/reports?range=this_month", ["1280,800", "390,844"]),
            ("complaints", manager, "/complaints", ["1280,800", "390,844"]),
            ("schedule", staff, f"/schedule?branch={rome_id}", ["1280,800", "390,844"]),
            ("fleet", staff, "/fleet", ["1280,800", "1920,1080", "390,844"]),
            ("sessions", staff, "/sessions/users/runner-7", ["1280,800", "390,844"]),
            ("docs", staff, "/docs", ["1280,800", "390,844"]),
            ("kiosk", customer, f"/b/{public_id}/kiosk", ["1280,800", "390,844"]),
            ("ticket", customer, f"/t/{second['token']}", ["390,844", "1280,800"]),
            ("ticket-served", customer, f"/t/{token}", ["390,844", "1280,800"]),
            ("display", display, f"/b/{public_id}/display", ["1920,1080", "1280,800"]),
        ]
        for name, driver, path, sizes in pages:
            driver.get(server.base + path)
            for size in sizes:
                overflow = shoot(driver, arguments.screenshots, f"{name}-{size.replace(',', 'x')}", size)
                check(overflow <= 0, f"the {name} page at {size.replace(',', '×')} does not scroll sideways (by {overflow} px)")
        print(f"screenshots in {os.path.abspath(arguments.screenshots)}")
        if arguments.measure:
            print(json.dumps(figures, indent=1, sort_keys=True))
    finally:
        for driver in drivers:
            driver.quit()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all end-to-end checks passed")


if __name__ == "__main__":
    main()
