#!/usr/bin/env python3
"""Test data for `scripts/bench sessions`.

    sessions_data.py heavy URL TOKEN USER COUNT     COUNT sessions of one user over ten years, through the batch API
    sessions_data.py bulk-sqlite FILE COUNT         COUNT sessions of 10,000 users straight into the sessions table
    sessions_data.py bulk-postgres URL COUNT        the same on PostgreSQL (through psql)

The bulk forms skip the API (and the roll-ups): they fill the table the list query reads, fast enough for millions.
"""
import json
import subprocess
import sys
import time
import urllib.request

SPORTS = ["run", "ride", "swim", "walk", "hike", "row", "strength", "yoga"]


def heavy(url, token, user, count):
    now = int(time.time()) - 3600
    span = 10 * 365 * 86400
    started = time.monotonic()
    for first in range(0, count, 1000):
        sessions = []
        for index in range(first, min(first + 1000, count)):
            at = now - span + index * span // count
            sessions.append({"user_id": user, "sport": "run", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
                             "duration_s": 1800 + index % 1800, "distance_m": 5000 + index % 5000, "avg_hr_bpm": 120 + index % 50})
        request = urllib.request.Request(url + "/api/v1/sessions/batch", data=json.dumps({"sessions": sessions}).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.load(response)
            if answer["failed"]:
                raise SystemExit(f"{answer['failed']} sessions refused: {answer['results'][0]}")
    print(f"{count} sessions of {user} in {time.monotonic() - started:.1f} s", file=sys.stderr)


BULK_SELECT = """
    SELECT 1, 'user-' || (n % 10000), {sport}, {now} - (n * 37) % 94608000000, 600 + n % 7200, 1000.0 + n % 20000,
           NULL, 100 + n % 80, NULL, NULL, NULL, NULL, NULL, {now}
"""


def bulk_sqlite(path, count):
    import sqlite3
    now = int(time.time() * 1000) - 3_600_000
    sport = "CASE n % 8 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(SPORTS)) + " END"
    database = sqlite3.connect(path)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=OFF")
    started = time.monotonic()
    for first in range(0, count, 1_000_000):
        last = min(first + 1_000_000, count)
        database.execute(f"""
            WITH RECURSIVE numbers(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM numbers WHERE n + 1 < {last})
            INSERT INTO sessions (organization_id, user_id, sport, started_at_ms, duration_s, distance_m, calories_kcal, avg_hr_bpm,
                                  max_hr_bpm, elevation_gain_m, notes, external_id, idempotency_key, created_at_ms)
            {BULK_SELECT.format(sport=sport, now=now)} FROM numbers""")
        database.commit()
        print(f"  {last:,} rows", file=sys.stderr)
    database.execute("ANALYZE")
    database.close()
    print(f"{count} sessions in {time.monotonic() - started:.0f} s", file=sys.stderr)


def bulk_postgres(url, count):
    now = int(time.time() * 1000) - 3_600_000
    sport = "CASE n % 8 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(SPORTS)) + " END"
    started = time.monotonic()
    for first in range(0, count, 1_000_000):
        last = min(first + 1_000_000, count)
        statement = f"""
            INSERT INTO sessions (organization_id, user_id, sport, started_at_ms, duration_s, distance_m, calories_kcal, avg_hr_bpm,
                                  max_hr_bpm, elevation_gain_m, notes, external_id, idempotency_key, created_at_ms)
            {BULK_SELECT.format(sport=sport, now=now)} FROM generate_series({first}, {last - 1}) AS n"""
        subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement], check=True)
        print(f"  {last:,} rows", file=sys.stderr)
    subprocess.run(["psql", url, "-q", "-c", "ANALYZE sessions"], check=True)
    print(f"{count} sessions in {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "heavy":
        heavy(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif command == "bulk-sqlite":
        bulk_sqlite(sys.argv[2], int(sys.argv[3]))
    elif command == "bulk-postgres":
        bulk_postgres(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
