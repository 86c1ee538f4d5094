#!/usr/bin/env python3
"""Checks the running server against its OpenAPI document with schemathesis (every check, a fixed seed).

Starts `turno serve` on a free port with a throw-away SQLite database, signs in as `admin`, creates what the
path parameters name (a branch, services, queues, tickets, sessions, drones, deliveries, users, an API key, webhook
endpoints with a notification in their log, a ticket's follower, shift templates, assignments, an absence and a swap),
then runs `schemathesis run <server>/openapi.json --checks all` with those ids fixed per operation
(`schemathesis.toml`, written next to the database) and `hooks.py` (beside this file) for what JSON Schema
cannot say. Prints `schemathesis: N passed, M failed` (N, M: API operations; a failed stateful scenario counts as one more) and
exits non-zero on any failure.

    Tests/schemathesis/run.py [--binary .build/debug/turno] [--schema PATH] [--seed 1] [--max-examples 100]

`--schema PATH` tests the server against a document on disk instead of the one it serves (the binary serves the
copy it was built with). Needs `pip install schemathesis` (tested with 4.32).
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ADMIN_PASSWORD = "schemathesis-admin-1"
# Where webhooks and push alerts go: a loopback port nothing answers, so they are retried and never leave the machine.
HOOK_URL = "http://127.0.0.1:9/hook"
# A browser push subscription the server accepts: a fixed P-256 public key (65 bytes, uncompressed) and auth secret.
PUSH_SUBSCRIPTION = {
    "endpoint": "http://127.0.0.1:9/push",
    "keys": {"p256dh": "BO-IDI74FogXlsGI5XGwGsb3DFJidFba5IZ1jv_Zxj3dXNvBHiSIOhJZgkKpWHW5aohU9kv_msmjOBC4HxVPVOU", "auth": "AAECAwQFBgcICQoLDA0ODw"},
}

# The first day (a Monday) of run.py's open-ended Monday-to-Friday assignment.
SHIFTS_FROM = "2026-01-05"

# Not tested, and why:
EXCLUDED = {
    # A stream that never ends while its topics are valid: every positive case would time out.
    "GET /live/sse": "streams forever",
}

# Settings of single operations (TOML, in their `[[operations]]` table), and why.
_STATEFUL_OFF = "phases = { stateful = { enabled = false } }"
# Schemathesis's statuses that accept valid data (positive_data_acceptance), and 422, in the stateful phase only.
_STATEFUL_422 = (
    "phases = { stateful = { checks = { positive_data_acceptance = { expected-statuses = "
    '["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"] } } } }'
)
OPERATION_SETTINGS = {
    # Each deletes the one resource run.py made for it, which is gone after the first phases; in the stateful phase it
    # follows a POST that made another, and the fixed id's 404 would be blamed on that POST ("created resource not found").
    "DELETE /api/v1/webhooks/{webhook}": [_STATEFUL_OFF],
    "DELETE /api/v1/tickets/{ticket}/followers/{follower}": [_STATEFUL_OFF],
    "DELETE /api/v1/shift-templates/{template}": [_STATEFUL_OFF],
    "DELETE /api/v1/shift-assignments/{assignment}": [_STATEFUL_OFF],
    "DELETE /api/v1/absences/{absence}": [_STATEFUL_OFF],
    "DELETE /api/v1/shift-swaps/{swap}": [_STATEFUL_OFF],
    # In the stateful phase links fill these bodies with values of other responses after hooks.py ran: a staff member
    # of another branch, a counter whose operators PATCH chose, an assignment with no shift that day, one template's
    # `from` with another's `to`, one absence's `first_date` with another's `last_date`, a day's ranges merged with
    # generated ones. The document rightly answers 422.
    "PUT /api/v1/branches/{branch}/hours": [_STATEFUL_422],
    "POST /api/v1/branches/{branch}/shift-templates": [_STATEFUL_422],
    "POST /api/v1/branches/{branch}/shift-assignments": [_STATEFUL_422],
    "POST /api/v1/branches/{branch}/absences": [_STATEFUL_422],
    "POST /api/v1/branches/{branch}/shift-swaps": [_STATEFUL_422],
    # Hidden unless the server has a Telegram bot and the request carries the bot's secret token: without the header it is
    # 404 as well, by design (the test server has no bot).
    "POST /api/v1/telegram/webhook": ["checks = { missing_required_header = { expected-statuses = [404] } }"],
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class API:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None, token=None, expect=(200, 201, 204)):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        token = token or self.token
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status not in expect:
            raise SystemExit(f"setup: {method} {path} answered {status}: {text}")
        return json.loads(text) if text.strip().startswith(("{", "[")) else None

    def login(self):
        return self.call("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["access_token"]


def wait_ready(api, server, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"setup: the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(api.base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.25)
    raise SystemExit("setup: the server did not become ready")


def set_up(api):
    """Creates the data the path parameters name; returns the values per operation."""
    api.token = api.login()
    # A second sign-in, for the logout route to end (ending the first would sign every later request out).
    logout_token = api.login()

    branch = api.call("POST", "/api/v1/branches", {"name": "Centre", "time_zone": "Europe/Rome", "self_service_classes": ["regular", "senior"]})
    other_branch = api.call("POST", "/api/v1/branches", {"name": "Harbour", "time_zone": "UTC"})
    b = branch["id"]
    s1 = api.call("POST", f"/api/v1/branches/{b}/services", {"name": "Parcels", "prefix": "A"})["id"]
    s2 = api.call("POST", f"/api/v1/branches/{b}/services", {"name": "Accounts", "prefix": "B"})["id"]
    s3 = api.call("POST", f"/api/v1/branches/{b}/services", {"name": "Retired", "prefix": "C"})["id"]
    q1 = api.call("POST", f"/api/v1/branches/{b}/queues", {"name": "One", "counter": "1", "services": [s1, s2]})["id"]
    q2 = api.call("POST", f"/api/v1/branches/{b}/queues", {"name": "Two", "counter": "2", "services": [s1, s2]})["id"]
    q3 = api.call("POST", f"/api/v1/branches/{b}/queues", {"name": "Three", "counter": "3", "services": [s1]})["id"]

    def issue():
        return api.call("POST", f"/api/v1/branches/{branch['public_id']}/tickets", {"service": s1})

    # Webhook endpoints (one to keep, one to delete), which hear the tickets' events from here on.
    webhook = api.call("POST", "/api/v1/webhooks", {"url": HOOK_URL, "event_types": ["ticket.*"], "description": "checked"})["id"]
    removed_webhook = api.call("POST", "/api/v1/webhooks", {"url": HOOK_URL, "event_types": ["*"]})["id"]

    served = issue()  # served at counter 1, for the rating; followed by push, so its history lists alerts
    api.call("POST", f"/api/v1/tickets/{served['token']}/followers", {"channel": "push", "subscription": PUSH_SUBSCRIPTION})
    api.call("POST", f"/api/v1/queues/{q1}/call-next")
    api.call("POST", f"/api/v1/tickets/{served['id']}/start")
    api.call("POST", f"/api/v1/tickets/{served['id']}/finish")
    followed, cancelled, operated = issue(), issue(), issue()
    # A waiting ticket followed by push, and a request in the kept endpoint's log (planned soon after the events).
    alerted = issue()
    follower = api.call("POST", f"/api/v1/tickets/{alerted['token']}/followers", {"channel": "push", "subscription": PUSH_SUBSCRIPTION})["id"]
    deadline = time.monotonic() + 30
    while not (log := api.call("GET", f"/api/v1/webhooks/{webhook}/notifications")["items"]):
        if time.monotonic() > deadline:
            raise SystemExit("setup: the webhook endpoint's log stayed empty")
        time.sleep(0.2)
    notification = log[-1]["id"]

    def session(user, started, external=None):
        body = {"user_id": user, "sport": "run", "started_at": started, "duration_s": 1800, "distance_m": 5000, "avg_hr_bpm": 150, "max_hr_bpm": 170}
        if external:
            body["external_id"] = external
        return api.call("POST", "/api/v1/sessions", body)["id"]

    kept = session("u-1", "2025-03-01T07:00:00Z", "watch-1")
    session("u-1", "2025-03-02T07:00:00Z")
    deleted = session("u-2", "2025-03-03T07:00:00Z")
    cursor = api.call("GET", "/api/v1/sessions?limit=1")["next_cursor"]
    athletes_cursor = api.call("GET", "/api/v1/sessions/users?limit=1")["next_cursor"]  # u-1 and u-2: two athletes

    simulated = api.call("POST", "/api/v1/drones", {"id": "sim-check", "type": "medium"})["id"]
    reporting = api.call("POST", "/api/v1/drones", {"id": "real-check", "type": "heavy", "reports_telemetry": True, "position": {"x": 5000, "y": 5000}})["id"]
    delivery = api.call("POST", "/api/v1/deliveries", {"origin": {"x": 1000, "y": 1000}, "destination": {"x": 2000, "y": 2000}, "weight_kg": 1})["id"]
    to_cancel = api.call("POST", "/api/v1/deliveries", {"origin": {"x": 3000, "y": 3000}, "destination": {"x": 3500, "y": 3000}, "weight_kg": 2})["id"]

    user = api.call("POST", "/api/v1/users", {"username": "checked-op", "password": "operator-pass-1", "role": "operator", "branch_ids": [b]})["id"]
    removed_user = api.call("POST", "/api/v1/users", {"username": "removed-op", "password": "operator-pass-2", "role": "operator", "branch_ids": [b]})["id"]
    key = api.call("POST", "/api/v1/api-keys", {"name": "revoked kiosk", "scopes": ["tickets:issue"]})["id"]
    me = api.call("GET", "/api/v1/me")["user_id"]
    # A complaint about the served ticket, for the inbox's routes; later ones about it are, rightly, a 409.
    api.call("POST", f"/api/v1/tickets/{served['token']}/complaint", {"text": "The room was cold"})
    complaint = api.call("GET", "/api/v1/complaints")["items"][0]["id"]

    # The shift plan of branch b, which has no opening hours (the fuzzed ones go to the other branch: with hours, a
    # template's weekdays and times are checked against them, and anonymous tickets are refused outside them). Its
    # staff member is one of its own, not `user`, whose branches, role and state PATCH /api/v1/users/{user} changes;
    # the admin covers swaps (admins work everywhere, at every counter).
    shift_op = api.call("POST", "/api/v1/users", {"username": "shift-op", "password": "operator-pass-3", "role": "operator", "branch_ids": [b]})["id"]
    day = api.call("POST", f"/api/v1/branches/{b}/shift-templates", {"name": "Day", "from": "09:00", "to": "17:00", "weekdays": ["mon", "tue", "wed", "thu", "fri"]})["id"]
    unused = api.call("POST", f"/api/v1/branches/{b}/shift-templates", {"name": "Saturday", "from": "09:00", "to": "12:00", "weekdays": ["sat"]})["id"]
    # Open-ended, at counter 1 (no operators named: everybody may work it); swaps go on its weekdays from its first.
    assignment = api.call("POST", f"/api/v1/branches/{b}/shift-assignments", {"template_id": day, "user_id": shift_op, "queue_id": q1, "first_date": SHIFTS_FROM})["id"]
    # A one-off before it, to remove (a started one ends instead: removing it again is 204 again).
    removed_assignment = api.call(
        "POST", f"/api/v1/branches/{b}/shift-assignments", {"template_id": day, "user_id": shift_op, "queue_id": q1, "first_date": "2025-12-01", "last_date": "2025-12-01"}
    )["id"]
    absence = api.call("POST", f"/api/v1/branches/{b}/absences", {"user_id": shift_op, "first_date": "2026-02-02", "last_date": "2026-02-06", "reason": "Leave"})["id"]
    swap = api.call("POST", f"/api/v1/branches/{b}/shift-swaps", {"assignment_id": assignment, "date": "2026-01-07", "substitute_id": me})["id"]

    path = {
        "/api/v1/users/{user}": {"user": user},
        "DELETE /api/v1/users/{user}": {"user": removed_user},
        "/api/v1/api-keys/{key}": {"key": key},
        "/api/v1/branches/{branch}": {"branch": b},
        "PATCH /api/v1/branches/{branch}": {"branch": other_branch["id"]},
        "/api/v1/branches/{branch}/services": {"branch": b},
        "/api/v1/branches/{branch}/queues": {"branch": b},
        "/api/v1/branches/{branch}/dashboard": {"branch": b},
        "/api/v1/branches/{branch}/tickets": {"branch": branch["public_id"]},
        "GET /api/v1/branches/{branch}/tickets": {"branch": b},
        "/api/v1/branches/{branch}/tickets.csv": {"branch": b},
        "/api/v1/branches/{branch}/snapshot": {"branch": branch["public_id"]},
        "/api/v1/services/{service}": {"service": s1},
        "PATCH /api/v1/services/{service}": {"service": s2},
        "DELETE /api/v1/services/{service}": {"service": s3},
        "/api/v1/queues/{queue}": {"queue": q1},
        "PATCH /api/v1/queues/{queue}": {"queue": q2},
        "DELETE /api/v1/queues/{queue}": {"queue": q3},
        "/api/v1/queues/{queue}/open": {"queue": q2},
        "/api/v1/queues/{queue}/pause": {"queue": q2},
        "/api/v1/queues/{queue}/close": {"queue": q2},
        "/api/v1/queues/{queue}/tickets": {"queue": q1},
        "/api/v1/queues/{queue}/call-next": {"queue": q1},
        "/api/v1/tickets/{ticket}/recall": {"ticket": operated["id"]},
        "/api/v1/tickets/{ticket}/start": {"ticket": operated["id"]},
        "/api/v1/tickets/{ticket}/finish": {"ticket": operated["id"]},
        "/api/v1/tickets/{ticket}/no-show": {"ticket": operated["id"]},
        "/api/v1/tickets/{ticket}/transfer": {"ticket": operated["id"]},
        "GET /api/v1/tickets/{ticket}": {"ticket": followed["token"]},
        "DELETE /api/v1/tickets/{ticket}": {"ticket": cancelled["token"]},
        "/api/v1/tickets/{ticket}/rating": {"ticket": served["token"]},
        "/api/v1/tickets/{ticket}/history": {"ticket": served["id"]},
        "/api/v1/tickets/{ticket}/complaint": {"ticket": served["token"]},
        "/api/v1/complaints/{complaint}": {"complaint": complaint},
        "/api/v1/sessions/{session}": {"session": kept},
        "DELETE /api/v1/sessions/{session}": {"session": deleted},
        "/api/v1/users/{user}/stats": {"user": "u-1"},
        "/api/v1/deliveries/{delivery}": {"delivery": delivery},
        "/api/v1/deliveries/{delivery}/cancel": {"delivery": to_cancel},
        "/api/v1/drones/{drone}": {"drone": simulated},
        "/api/v1/drones/{drone}/telemetry": {"drone": reporting},
        "/api/v1/webhooks/{webhook}": {"webhook": webhook},
        "DELETE /api/v1/webhooks/{webhook}": {"webhook": removed_webhook},
        "/api/v1/webhooks/{webhook}/secret": {"webhook": webhook},
        "/api/v1/webhooks/{webhook}/notifications": {"webhook": webhook},
        "/api/v1/webhooks/{webhook}/notifications/{notification}/resend": {"webhook": webhook, "notification": notification},
        "/api/v1/tickets/{ticket}/followers": {"ticket": alerted["token"]},
        "/api/v1/tickets/{ticket}/followers/{follower}": {"ticket": alerted["token"], "follower": follower},
        "/api/v1/branches/{branch}/alerts": {"branch": b},
        "/api/v1/branches/{branch}/hours": {"branch": other_branch["id"]},
        "/api/v1/branches/{branch}/schedule": {"branch": b},
        "/api/v1/branches/{branch}/shift-templates": {"branch": b},
        "/api/v1/branches/{branch}/shift-assignments": {"branch": b},
        "/api/v1/branches/{branch}/absences": {"branch": b},
        "/api/v1/branches/{branch}/shift-swaps": {"branch": b},
        "/api/v1/branches/{branch}/forecast": {"branch": b},
        "/api/v1/branches/{branch}/staffing": {"branch": b},
        "/api/v1/shift-templates/{template}": {"template": unused},
        "/api/v1/shift-assignments/{assignment}": {"assignment": removed_assignment},
        "/api/v1/absences/{absence}": {"absence": absence},
        "/api/v1/shift-swaps/{swap}": {"swap": swap},
    }
    # Query values that only the server can make: the cursors of a session page and of an athlete page. Long polls
    # that would hold a request for up to 30 s are asked not to wait.
    query = {
        "GET /api/v1/sessions": {"cursor": cursor},
        "GET /api/v1/sessions.csv": {"cursor": cursor},
        "GET /api/v1/sessions/users": {"cursor": athletes_cursor},
        "GET /live/poll": {"wait": 0},
    }
    # Body fields of positive requests that must name things of the branch (hooks.py puts them in): the services
    # a counter serves, the service of a ticket, the shift plan's (below).
    body = {
        "POST /api/v1/branches/{branch}/queues": {"services": [s1, s2]},
        "PATCH /api/v1/queues/{queue}": {"services": [s1, s2]},
        "POST /api/v1/branches/{branch}/tickets": {"service": s1},
        "POST /api/v1/tickets/{ticket}/transfer": {"service": s2},
        # Not bodies: the ticket history's filters (hooks.py keeps them to what exists).
        "GET /api/v1/branches/{branch}/tickets": {"service": s1, "queue": q1, "operator": user},
        "GET /api/v1/branches/{branch}/tickets.csv": {"service": s1, "queue": q1, "operator": user},
        "PATCH /api/v1/complaints/{complaint}": {"assignee_id": me},
        # Not bodies: the reports' and the inbox's filters (hooks.py keeps them to what exists).
        "GET /api/v1/reports": {"branch": b, "operator": user},
        "GET /api/v1/reports.csv": {"branch": b, "operator": user},
        "GET /api/v1/reports.pdf": {"branch": b, "operator": user},
        "GET /api/v1/me/report": {"operator": me},
        "GET /api/v1/complaints": {"branch": b, "assignee": me},
        # URLs a webhook request may go to, and a push subscription whose key is a point on the curve: the generated
        # ones are http(s) URLs anywhere and random base64url.
        "POST /api/v1/webhooks": {"url": HOOK_URL},
        "PATCH /api/v1/webhooks/{webhook}": {"url": HOOK_URL},
        "POST /api/v1/tickets/{ticket}/followers": {"subscription": PUSH_SUBSCRIPTION},
        # The shift plan's template, staff and counter, and the assignment a swap changes (its later double bookings
        # are, rightly, a 409). `shifts_from` is no body field: hooks.py puts swap dates on weekdays from then on.
        "POST /api/v1/branches/{branch}/shift-assignments": {"template_id": day, "user_id": shift_op, "queue_id": q1},
        "POST /api/v1/branches/{branch}/absences": {"user_id": shift_op},
        "POST /api/v1/branches/{branch}/shift-swaps": {"assignment_id": assignment, "substitute_id": me, "shifts_from": SHIFTS_FROM},
    }
    headers = {"POST /api/v1/auth/logout": {"Authorization": "Bearer " + logout_token}}
    return path, query, body, headers


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value))


def operations(document):
    for path, item in document["paths"].items():
        for method in item:
            if method in ("get", "put", "post", "patch", "delete", "head", "options", "trace"):
                yield method.upper(), path


def write_config(directory, document, path_values, query_values, header_values):
    """One `[[operations]]` table per operation that needs fixed values (the most specific key wins)."""
    lines = []
    for method, path in operations(document):
        name = f"{method} {path}"
        parameters = {}
        for key, values in path_values.items():
            if key == path or key == name:
                parameters.update({f"path.{k}": v for k, v in values.items()})
        if name in path_values:  # method-specific values win over path-wide ones
            parameters.update({f"path.{k}": v for k, v in path_values[name].items()})
        parameters.update({f"query.{k}": v for k, v in query_values.get(name, {}).items()})
        headers = header_values.get(name, {})
        settings = OPERATION_SETTINGS.get(name, [])
        if not parameters and not headers and not settings:
            continue
        lines.append("[[operations]]")
        lines.append(f"include-name = {toml_value(name)}")
        if parameters:
            lines.append("parameters = { " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in parameters.items()) + " }")
        if headers:
            lines.append("headers = { " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in headers.items()) + " }")
        lines += settings
        lines.append("")
    config = os.path.join(directory, "schemathesis.toml")
    with open(config, "w") as file:
        file.write("\n".join(lines))
    return config


def summarize(ndjson_path):
    """API operations that passed and failed (every phase counted), from schemathesis's event stream; a failed stateful
    scenario counts as one more failure."""
    passed, failed = set(), set()
    with open(ndjson_path) as file:
        for line in file:
            finished = json.loads(line).get("ScenarioFinished")
            if not finished or not finished.get("recorder"):
                continue
            label = finished["recorder"].get("label", "")
            if not re.match(r"^[A-Z]+ /", label):
                label = "stateful phase"
            if finished.get("status") in ("failure", "error"):
                failed.add(label)
            elif finished.get("status") == "success" and label != "stateful phase":
                passed.add(label)
    return passed - failed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "turno"))
    parser.add_argument("--schema", help="test against this document instead of the served /openapi.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-examples", type=int, default=100, help="examples per operation in the fuzzing phase")
    parser.add_argument("--workers", default="1", help="more than one trips a CPython 3.11 bug in hypothesis (AST recursion depth)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, config, reports)")
    parser.add_argument("extra", nargs="*", help="after --: more arguments for `schemathesis run`")
    args = parser.parse_args()

    if shutil.which("schemathesis") is None:
        raise SystemExit("schemathesis is not installed: pip install schemathesis")
    binary = os.path.abspath(args.binary)
    for _ in range(20):  # a rebuild may replace the binary for a moment
        if os.path.exists(binary):
            break
        time.sleep(0.5)
    workdir = tempfile.mkdtemp(prefix="turno-schemathesis.")
    port = free_port()
    environment = dict(
        os.environ,
        TURNO_ADMIN_PASSWORD=ADMIN_PASSWORD,
        TURNO_RATE_API="off", TURNO_RATE_SIGNED_IN="off", TURNO_RATE_PUBLIC_READS="off", TURNO_RATE_TICKETS="off", TURNO_RATE_EXPORTS="off",
        TURNO_BCRYPT_COST="12", TURNO_ACCESS_TOKEN_SECONDS="3600", TURNO_LOG_LEVEL="warning",
    )
    environment.pop("TURNO_METRICS_TOKEN", None)
    log = open(os.path.join(workdir, "server.log"), "w")
    server = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--database", f"sqlite://{workdir}/turno.sqlite"],
        env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
    )
    started = time.monotonic()
    try:
        api = API(f"http://127.0.0.1:{port}")
        wait_ready(api, server)
        path_values, query_values, body_values, header_values = set_up(api)
        if args.schema:
            with open(args.schema) as file:
                document = json.load(file)
            location = os.path.abspath(args.schema)
        else:
            with urllib.request.urlopen(api.base + "/openapi.json") as response:
                document = json.load(response)
            location = api.base + "/openapi.json"
        config = write_config(workdir, document, path_values, query_values, header_values)
        report = os.path.join(workdir, "events.ndjson")
        command = [
            "schemathesis", "--config-file", config, "run", location, "--url", api.base,
            "--checks", "all", "--seed", str(args.seed), "--max-examples", str(args.max_examples),
            "--workers", args.workers, "--no-color",
            "--header", "Authorization: Bearer " + api.token,
            "--report", "ndjson", "--report-ndjson-path", report,
            "--suppress-health-check", "all", "--request-timeout", "20", "--generation-database", "none",
        ]
        for name in EXCLUDED:
            command += ["--exclude-name", name]
        command += args.extra
        hooks_env = dict(
            os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""),
            TURNO_SCHEMATHESIS_REFERENCES=json.dumps(body_values), PYTHONDONTWRITEBYTECODE="1",
        )
        printable = [part if not part.startswith("Authorization:") else "Authorization: Bearer <admin token>" for part in command]
        print("$ " + " ".join(printable), flush=True)
        result = subprocess.run(command, env=hooks_env, cwd=workdir)
        passed, failed = summarize(report) if os.path.exists(report) else (set(), set())
        if server.poll() is not None:
            failed.add(f"the server exited with status {server.returncode}")
        if result.returncode != 0 and not failed:
            failed.add(f"schemathesis exited with status {result.returncode}")
        elapsed = time.monotonic() - started
        print(f"schemathesis: run took {elapsed:.0f} s; not tested: {', '.join(f'{k} ({v})' for k, v in EXCLUDED.items())}")
        if failed:
            print("schemathesis: failed: " + "; ".join(sorted(failed)))
            log.flush()
            with open(os.path.join(workdir, "server.log"), errors="replace") as file:
                errors = [line.rstrip() for line in file if " error " in line or " critical " in line]
            for line in errors[:20]:
                print("server: " + line)
        print(f"schemathesis: {len(passed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        if args.keep:
            print(f"schemathesis: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
