"""PostgreSQL goes away under load: a real cluster restarted (pg_ctl restart -m immediate) while four writers issue
tickets, then stopped, then the node is asked to stop (SIGTERM).

It checks what an operator relies on: while the database is gone every request answers 503 with Retry-After (never
500) within a bound, serving resumes by itself, no acknowledged ticket is lost, the log names the real cause, and
SIGTERM stops the node within a bound whatever the database does. Prints "N passed, M failed" and exits 1 on failure.

    python3 Tests/outage/outage.py --turno .build/debug/turno
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

ADMIN_PASSWORD = "outage-test-password"
results = {"passed": 0, "failed": 0}


def check(condition, what):
    results["passed" if condition else "failed"] += 1
    print(("ok    " if condition else "FAIL  ") + what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throw-away PostgreSQL cluster from Debian's packages; run as the postgres user when we are root."""

    def __init__(self, folder):
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.folder, self.port = folder, free_port()
        self.data = os.path.join(folder, "data")
        if os.getuid() == 0:
            shutil.chown(folder, "postgres")

    def run(self, *arguments):
        command = [os.path.join(self.bin, arguments[0]), *arguments[1:]]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self):
        self.run("initdb", "-D", self.data, "-U", "turno", "--auth=trust", "-E", "UTF8", "--no-instructions")
        self.start()

    def pg_ctl(self, action, *extra):
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "postgres.log"), "-w", "-t", "60",
                 "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", action, *extra)

    def start(self):
        self.pg_ctl("start")

    def url(self):
        return f"postgres://turno@127.0.0.1:{self.port}/postgres"

    def query(self, sql):
        psql = os.path.join(self.bin, "psql")
        output = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "turno", "-d", "postgres", "-At", "-c", sql],
                                check=True, capture_output=True, text=True).stdout
        return [line for line in output.splitlines() if line]


def request(base, method, path, body=None, token=None, headers=None, timeout=30):
    """(status, headers, parsed body or text, seconds); status 0 when the connection failed."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, method=method, data=data)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            text = response.read().decode()
            return response.status, dict(response.headers), json.loads(text) if text else None, time.monotonic() - started
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, dict(error.headers), text, time.monotonic() - started
    except OSError as error:
        return 0, {}, str(error), time.monotonic() - started


class Writers:
    """Four clients issuing tickets as fast as they are answered; a 503 is retried with the same Idempotency-Key."""

    def __init__(self, base, token, branch, service):
        self.base, self.token, self.branch, self.service = base, token, branch, service
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged, self.statuses, self.slowest, self.no_retry_after = set(), {}, 0.0, 0
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(4)]

    def work(self):
        while not self.stop.is_set():
            key = str(uuid.uuid4())
            while not self.stop.is_set():
                status, headers, body, seconds = request(self.base, "POST", f"/api/v1/branches/{self.branch}/tickets", {"service": self.service},
                                                         token=self.token, headers={"Idempotency-Key": key})
                with self.lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.slowest = max(self.slowest, seconds)
                    if status in (200, 201):
                        self.acknowledged.add(body["id"])
                    if status == 503 and "Retry-After" not in headers:
                        self.no_retry_after += 1
                if status in (200, 201):
                    break
                time.sleep(0.1)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--turno", required=True)
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="turno-outage-")
    cluster = Cluster(folder)
    cluster.init()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(folder, "turno.log")
    environment = dict(os.environ, TURNO_ADMIN_PASSWORD=ADMIN_PASSWORD, TURNO_RATE_API="off", TURNO_RATE_SIGNED_IN="off", TURNO_RATE_TICKETS="off")
    with open(log_path, "w") as log:
        node = subprocess.Popen([arguments.turno, "serve", "--port", str(port), "--database", cluster.url()], env=environment, stdout=log, stderr=log)
    try:
        for _ in range(500):
            if request(base, "GET", "/readyz", timeout=1)[0] == 200:
                break
            time.sleep(0.05)
        token = request(base, "POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})[2]["access_token"]
        branch = request(base, "POST", "/api/v1/branches", {"name": "Outage"}, token)[2]["id"]
        service = request(base, "POST", f"/api/v1/branches/{branch}/services", {"name": "Counter", "prefix": "A"}, token)[2]["id"]
        request(base, "POST", f"/api/v1/branches/{branch}/queues", {"name": "Desk", "counter": "1", "services": [service]}, token)

        # 1. A crash and restart of PostgreSQL under load.
        with Writers(base, token, branch, service) as writers:
            time.sleep(2)
            cluster.pg_ctl("restart", "-m", "immediate")
            back = time.monotonic()
            served_again = None
            while time.monotonic() - back < 20:
                if request(base, "GET", "/readyz", timeout=5)[0] == 200 and writers.statuses.get(201, 0) > 0:
                    served_again = time.monotonic() - back
                    break
                time.sleep(0.05)
            before = writers.statuses.get(201, 0)
            time.sleep(2)
            resumed = writers.statuses.get(201, 0) > before
        print(f"       statuses {writers.statuses}, slowest answer {writers.slowest:.2f} s, serving again {served_again} s after the restart")
        check(set(writers.statuses) <= {200, 201, 503}, f"every answer during the restart was 200, 201 or 503 (got {sorted(writers.statuses)})")
        check(writers.no_retry_after == 0, "every 503 carries Retry-After")
        check(writers.slowest < 20, f"no request waited more than 20 s (slowest {writers.slowest:.2f} s)")
        check(served_again is not None and resumed, "tickets are issued again after PostgreSQL is back, without restarting Turno")
        stored = set(int(row) for row in cluster.query("SELECT id FROM tickets"))
        lost = writers.acknowledged - stored
        check(not lost, f"all {len(writers.acknowledged)} acknowledged tickets are stored ({len(lost)} lost)")

        # 2. PostgreSQL stopped: requests get 503 quickly, the log says why, and SIGTERM still stops the node.
        cluster.pg_ctl("stop", "-m", "immediate")
        time.sleep(1)
        status, headers, _, seconds = request(base, "POST", f"/api/v1/branches/{branch}/tickets", {"service": service}, token)
        check(status == 503 and "Retry-After" in headers and seconds < 5, f"with PostgreSQL stopped a ticket answers 503 with Retry-After ({status} in {seconds:.2f} s)")
        node.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            node.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pass
        stopped_after = time.monotonic() - started
        check(node.poll() is not None and stopped_after < 10, f"SIGTERM stops the node with PostgreSQL down ({stopped_after:.1f} s)")
        with open(log_path) as log:
            text = log.read()
        check("Generic description to prevent accidental leakage" not in text, "the log names the real error, not the driver's generic text")
        check("database unavailable" in text, "the log records the database being unavailable")
    finally:
        if node.poll() is None:
            node.kill()
        try:
            cluster.pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        if results["failed"]:
            print(f"       kept {folder} (turno.log, postgres.log) to look into")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"outage: {results['passed']} passed, {results['failed']} failed")
    raise SystemExit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
