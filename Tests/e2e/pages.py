#!/usr/bin/env python3
"""End-to-end test of the queue pages in a real browser (Debian's chromium, headless, through chromium-driver).

Starts a turno server on a loopback port with a throw-away SQLite database, sets up a branch over the API, then:
issues a ticket on the kiosk page, opens its ticket page, signs in to the console and calls next, and checks that
the display and the ticket page show the call within one second and that the display queued an announcement;
a ticket page opened after the call shows the called state; after the server is killed and restarted, the display
reconnects by itself and shows the next call. Screenshots of every page are saved at the end.

    python3 Tests/e2e/pages.py --turno .build/debug/turno --screenshots screenshots [--measure]

With --measure it also prints, per page, the bytes transferred on first load and the time to first render, and the
time from pressing "call next" to the display showing the number (BENCHMARKS.md records them).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ADMIN_PASSWORD = "e2e-admin-password"
FAILURES = []


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
    try:
        api = API(server.base)
        api.sign_in()
        created = api.call("POST", "/api/v1/branches", {"name": "Via Roma"})
        branch, public_id = created["id"], created["public_id"]
        parcels = api.call("POST", f"/api/v1/branches/{branch}/services", {"name": "Parcels", "prefix": "A"})["id"]
        api.call("POST", f"/api/v1/branches/{branch}/services", {"name": "Pensions", "prefix": "B"})
        queue = api.call("POST", f"/api/v1/branches/{branch}/queues", {"name": "Desk 3", "counter": "3", "services": [parcels]})["id"]

        customer, display, staff = browser("420,860"), browser("1280,720"), browser()
        drivers += [customer, display, staff]

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

        # The console: sign in, choose the counter.
        staff.get(f"{server.base}/console")
        staff.find_element(By.NAME, "username").send_keys("admin")
        staff.find_element(By.NAME, "password").send_keys(ADMIN_PASSWORD)
        staff.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(staff, lambda d: d.current_url.endswith("/console") and d.find_elements(By.ID, "counter-select"), 10, "signing in leads to the console")
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

        # Administration (what the console logged while the server was down is not the admin page's).
        script_errors(staff)
        staff.get(f"{server.base}/admin#overview")
        figures["admin"] = page_figures(staff)
        errors = script_errors(staff)
        check(not errors, "the admin page logged no script errors or CSP violations" + (f": {errors}" if errors else ""))
        wait_for(staff, lambda d: "Desk 3" in d.find_element(By.ID, "overview").text or "3" in d.find_element(By.ID, "overview").text, 5,
                 "the admin overview shows the branch's counter")

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

        # Screenshots of each page for a reviewer.
        customer.get(f"{server.base}/t/{second['token']}")
        time.sleep(0.5)
        customer.save_screenshot(os.path.join(arguments.screenshots, "ticket-called.png"))
        display.save_screenshot(os.path.join(arguments.screenshots, "display.png"))
        staff.get(f"{server.base}/console")
        time.sleep(0.5)
        staff.save_screenshot(os.path.join(arguments.screenshots, "console.png"))
        staff.get(f"{server.base}/admin#overview")
        time.sleep(0.5)
        staff.save_screenshot(os.path.join(arguments.screenshots, "admin.png"))
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
