"""schemathesis hooks for Turno, loaded by run.py (SCHEMATHESIS_HOOKS=hooks).

`map_case` makes schema-valid (positive) requests also keep the rules that involve more than one value, which JSON
Schema cannot state and the document states in words. Of a negative body only the fields its mutations left valid
are changed (in the stateful phase a link may overwrite the mutated ones after the hooks, which makes the request
positive); other negative requests are left alone:

- sessions: `started_at` not in the future and on a day its month has; `distance_m` within the sport's longest distance and fastest average
  speed over `duration_s`; `avg_hr_bpm` not above `max_hr_bpm` (a PATCH is checked together with the stored session,
  so a change of one of these fields brings the others it is checked against);
- deliveries: destination not the origin, and a trip some drone able to lift the parcel can fly;
- statistics: `from` not after `to`, at most ten years, not after today;
- passwords: at most 72 bytes of UTF-8 (JSON Schema counts characters);
- `Idempotency-Key`: each positive request gets a key of its own (a key reused with another body is refused, 422);
- ids in bodies (the services a counter serves, a ticket's service, a shift's template, staff member and counter, the
  absent staff member, a swap's assignment and substitute) name what run.py created;
- webhook URLs go to a loopback port nothing answers, and push subscriptions are one whose key is a point on the curve
  (run.py's, as body references too);
- opening hours: each day's ranges start before they end and do not overlap, no special day listed twice;
- shifts: a template starts before it ends; dates are days the calendar has, `last_date` not before `first_date`
  (an absence less than a year long); a swap falls on a weekday of run.py's assignment, on or after its first day;
  the plan's `from` is a day from 1971-01-01 to 9999-11-01.
"""

import copy
import datetime
import json
import math
import os
import re
import threading

import schemathesis
from schemathesis.core.parameters import ParameterLocation

# ---------------------------------------------------------------- positive requests keep the cross-field rules

MAXIMUM_SPEED = {"run": 7, "ride": 25, "swim": 2.5, "walk": 3.5, "hike": 3.5, "row": 7, "strength": 30, "yoga": 30, "other": 30}
MAXIMUM_DISTANCE = {
    "run": 400_000, "hike": 400_000, "ride": 1_500_000, "swim": 50_000, "walk": 200_000, "row": 200_000,
    "strength": 100_000, "yoga": 100_000, "other": 2_000_000,
}
YEAR = re.compile(r"^([0-9]{4})")
DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plausible_session(session, change):
    """Makes a session body (or a PATCH's fields) keep the rules between its fields."""
    started = session.get("started_at")
    if isinstance(started, str) and (match := YEAR.match(started)):
        year = int(match.group(1))
        if year >= 2025:  # possibly in the future
            session["started_at"] = "2020" + started[4:]
        elif year == 2000:  # an offset could put it in 1999
            session["started_at"] = "2001" + started[4:]
    started = session.get("started_at")
    if isinstance(started, str) and re.match(r"^[0-9]{4}-[0-9]{2}-(29|30|31)", started):
        # The generator writes days the month may not have (2020-11-31); the API refuses them as not a time.
        session["started_at"] = started[:8] + "28" + started[10:]
    if change and any(name in session for name in ("distance_m", "sport", "duration_s")):
        session.setdefault("sport", "other")
        session.setdefault("duration_s", 3600)
        session.setdefault("distance_m", 0)
    sport, duration, distance = session.get("sport"), session.get("duration_s"), session.get("distance_m")
    if _number(distance) and sport in MAXIMUM_SPEED and _number(duration) and duration > 0:
        limit = min(MAXIMUM_DISTANCE[sport], MAXIMUM_SPEED[sport] * duration)
        if distance > limit:
            session["distance_m"] = math.floor(limit / 2)
    if change and ("avg_hr_bpm" in session or "max_hr_bpm" in session):
        session.setdefault("avg_hr_bpm", 25)
        session.setdefault("max_hr_bpm", 250)
    average, maximum = session.get("avg_hr_bpm"), session.get("max_hr_bpm")
    if _number(average) and _number(maximum) and average > maximum:
        session["avg_hr_bpm"], session["max_hr_bpm"] = maximum, average


# The fleet's standard drone types (FleetRules.standardSpecifications): payload kg, battery Wh, Wh/km, Wh/km per kg.
DRONE_TYPES = [(2, 200, 10, 3), (8, 500, 20, 2.5), (25, 1200, 45, 2)]
HUB_LINES = [10_000 / 6, 10_000 / 2, 10_000 * 5 / 6]
HUBS = [(x, y) for x in HUB_LINES for y in HUB_LINES]


def _to_nearest_hub(x, y):
    return min(math.hypot(x - hx, y - hy) for hx, hy in HUBS)


def _flyable(origin, destination, weight):
    loaded = math.hypot(destination[0] - origin[0], destination[1] - origin[1])
    for payload, capacity, per_km, per_km_kg in DRONE_TYPES:
        if weight > payload:
            continue
        percent = lambda metres, kg: metres / 1000 * (per_km + per_km_kg * kg) / capacity * 100
        needed = percent(_to_nearest_hub(*origin), 0) + percent(loaded, weight) + percent(_to_nearest_hub(*destination), 0) + 10
        if needed <= 99:  # a margin for rounding
            return True
    return False


def _password_within_bytes(body):
    """bcrypt reads 72 bytes: a password is 10 characters and at most 72 bytes of UTF-8."""
    password = body.get("password")
    if not isinstance(password, str) or len(password.encode()) <= 72:
        return
    kept = ""
    for character in password:
        if len((kept + character).encode()) > 62:
            break
        kept += character
    body["password"] = kept + "x" * max(0, 10 - len(kept))


def _flyable_delivery(body):
    origin, destination, weight = body.get("origin"), body.get("destination"), body.get("weight_kg")
    if not (isinstance(origin, dict) and isinstance(destination, dict) and _number(weight)):
        return
    if not all(_number(point.get(axis)) for point in (origin, destination) for axis in ("x", "y")):
        return
    start = (origin["x"], origin["y"])
    end = [destination["x"], destination["y"]]
    if start == tuple(end):
        end[0] = start[0] + 100 if start[0] <= 9_900 else start[0] - 100
    while not _flyable(start, end, weight) and math.hypot(end[0] - start[0], end[1] - start[1]) > 1:
        end = [start[0] + (end[0] - start[0]) / 4, start[1] + (end[1] - start[1]) / 4]
    destination["x"], destination["y"] = end


def _statistics_range(query):
    def day(name):
        try:
            return datetime.date.fromisoformat(query[name]) if isinstance(query.get(name), str) else None
        except ValueError:
            return None

    first, last = day("from"), day("to")
    latest = datetime.date.today() - datetime.timedelta(days=1)  # "today" in any time zone
    if first and not last and first > latest:
        query["from"] = latest.isoformat()
    elif first and not last and (latest - first).days >= 3_650:
        query["from"] = (latest - datetime.timedelta(days=3_000)).isoformat()
    elif first and last and (first > last or (last - first).days >= 3_700):
        query["from"] = last.isoformat()


_keys = iter(range(1, 1 << 62))
_keys_lock = threading.Lock()


def _ticket_filter(query, known):
    """A positive ticket-history query names a range the server takes (at most 731 days, from not after to) and only
    the service, counter and staff member run.py created: others are, rightly, a 400."""
    def day(name):
        try:
            return datetime.date.fromisoformat(query[name]) if isinstance(query.get(name), str) else None
        except ValueError:
            return None

    first, last = day("from"), day("to")
    if "from" in query and "to" in query:
        # Python's dates start at year 1; the server's at year 0: a `to` Python cannot read is still a day.
        if not (first and last) or first > last or (last - first).days > 730:
            query["from"] = query["to"]
    elif "from" in query:
        query["from"] = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    for field in ("service", "queue", "operator"):
        if field in query:
            if field in known:
                query[field] = known[field]
            else:
                del query[field]


def _report_query(query, known):
    """A positive report query keeps to a range the server takes and to what run.py created; one staff member's
    figures are grouped by day, weekday or operator."""
    _ticket_filter(query, known)
    for field in ("branch", "assignee"):
        if field in query:
            if field in known:
                query[field] = known[field]
            else:
                del query[field]
    if "operator" in query and query.get("group") not in (None, "day", "weekday", "operator"):
        query["group"] = "operator"


def _real_days(query):
    """The document's patterns for times allow days that do not exist (`2026-11-31`), which the server rightly
    refuses: a positive case gets the 28th of that month instead."""
    for name in ("from", "to"):
        value = query.get(name)
        if isinstance(value, str) and len(value) >= 10:
            try:
                datetime.date.fromisoformat(value[:10])
            except ValueError:
                query[name] = value[:8] + "28" + value[10:]


# ---------------------------------------------------------------- opening hours and shifts


def _minutes(text):
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _ordered_range(item):
    """`from` before `to` in a range or a shift template (the document says so in words; nothing runs past midnight)."""
    if not (isinstance(item, dict) and isinstance(item.get("from"), str) and isinstance(item.get("to"), str)):
        return
    start, end = sorted((_minutes(item["from"]), _minutes(item["to"])))
    if start == end:
        start, end = (start - 1, end) if start > 0 else (start, end + 1)
    item["from"], item["to"] = _clock(start), _clock(end)


def _disjoint(ranges):
    """A day's ranges, each in order, without those that overlap an earlier one."""
    kept = []
    for item in ranges:
        _ordered_range(item)
        if all(_minutes(item["to"]) <= _minutes(other["from"]) or _minutes(other["to"]) <= _minutes(item["from"]) for other in kept):
            kept.append(item)
    ranges[:] = kept


def _day(text, earliest=datetime.date.min, latest=datetime.date.max):
    """A day the calendar has, from `earliest` to `latest`, for a date the pattern allows (`0000-13-31`, `2026-02-30`)."""
    year, month, number = (int(part) for part in DATE.match(text).groups())
    try:
        found = datetime.date(year, month, number)
    except ValueError:
        found = datetime.date(max(year, 1), min(max(month, 1), 12), 28)
    return min(max(found, earliest), latest)


def _plausible_hours(body):
    hours = body.get("opening_hours")
    if not isinstance(hours, dict):
        return
    week = hours.get("week")
    if isinstance(week, dict):
        for ranges in week.values():
            if isinstance(ranges, list):
                _disjoint(ranges)
    days = hours.get("special_days")
    if isinstance(days, list):
        kept, seen = [], set()
        for day in days:
            if isinstance(day, dict) and isinstance(day.get("date"), str):
                day["date"] = _day(day["date"]).isoformat()
                if day["date"] in seen:
                    continue
                seen.add(day["date"])
            if isinstance(day, dict) and isinstance(day.get("hours"), list):
                _disjoint(day["hours"])
            kept.append(day)
        days[:] = kept


def _dates_in_order(body, longest=None):
    """`first_date` and `last_date` days the calendar has, in order; at most `longest` days from first to last."""
    if isinstance(body.get("first_date"), str):
        body["first_date"] = _day(body["first_date"]).isoformat()
    if not (isinstance(body.get("first_date"), str) and isinstance(body.get("last_date"), str)):
        return
    first, last = sorted((datetime.date.fromisoformat(body["first_date"]), _day(body["last_date"])))
    if longest is not None and (last - first).days >= longest:
        last = first + datetime.timedelta(days=longest - 1)
    body["first_date"], body["last_date"] = first.isoformat(), last.isoformat()


def _swap_day(body, first):
    """A weekday (run.py's assignment works Monday to Friday) within two years from the assignment's first day."""
    if not isinstance(body.get("date"), str):
        return
    day = datetime.date.fromisoformat(first) + datetime.timedelta(days=_day(body["date"]).toordinal() % 730)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    body["date"] = day.isoformat()


# The days the plan may be asked about (ScheduleController.planned): further off, `from` is a 400.
PLANNED = (datetime.date(1971, 1, 1), datetime.date(9999, 11, 1))
PLANS = (
    "GET /api/v1/branches/{branch}/schedule", "GET /api/v1/branches/{branch}/forecast", "GET /api/v1/branches/{branch}/staffing",
    "GET /api/v1/me/shifts",
)


def _positive(case, location):
    meta = case.meta
    return meta is None or not meta.is_negative_at(location)


def _mutated_body_fields(case):
    """The top-level body fields a negative case's mutations changed: none of a positive body, nor where a required
    field was left out; None when a mutation changed the body as a whole otherwise, or none is recorded."""
    if _positive(case, ParameterLocation.BODY):
        return set()
    mutations = [m for m in getattr(case.meta.phase.data, "mutations", ()) if m.parameter_location == ParameterLocation.BODY]
    if not mutations or not all(mutation.path or list(mutation.keywords or ()) == ["required"] for mutation in mutations):
        return None
    return {mutation.path[0] for mutation in mutations if mutation.path}


# Body fields that must name what run.py created, by operation: {"POST /api/v1/branches/{branch}/tickets": {"service": 1}}.
REFERENCES = json.loads(os.environ.get("TURNO_SCHEMATHESIS_REFERENCES", "{}"))


@schemathesis.hook
def map_case(context, case):
    operation = case.operation
    name = f"{operation.method.upper()} {operation.path}"
    if isinstance(case.body, dict) and (mutated := _mutated_body_fields(case)) is not None:
        # The rules are kept on the other fields alone: a mutated one stays as it is, even where a rule would add it.
        body = {field: value for field, value in case.body.items() if field not in mutated}
        for field, value in REFERENCES.get(name, {}).items():
            if field in body:
                body[field] = copy.deepcopy(value)
        if name in ("POST /api/v1/sessions", "PATCH /api/v1/sessions/{session}"):
            _plausible_session(body, change=name.startswith("PATCH"))
        elif name == "POST /api/v1/deliveries":
            _flyable_delivery(body)
        elif name in ("POST /api/v1/users", "PATCH /api/v1/users/{user}"):
            _password_within_bytes(body)
        elif name == "PATCH /api/v1/complaints/{complaint}" and "state" in case.body and "note" not in case.body and "reply" not in case.body:
            # A change of state says why (the document says so in words; a schema cannot).
            body["note"] = "checked"
        elif name == "PUT /api/v1/branches/{branch}/hours":
            _plausible_hours(body)
        elif name == "POST /api/v1/branches/{branch}/shift-templates":
            _ordered_range(body)
        elif name == "POST /api/v1/branches/{branch}/shift-assignments":
            _dates_in_order(body)
        elif name == "POST /api/v1/branches/{branch}/absences":
            _dates_in_order(body, longest=366)
        elif name == "POST /api/v1/branches/{branch}/shift-swaps":
            _swap_day(body, REFERENCES[name]["shifts_from"])
        # A negative body gets no field it lacks: that may be the required one left out.
        positive = _positive(case, ParameterLocation.BODY)
        case.body.update({field: value for field, value in body.items() if field not in mutated and (positive or field in case.body)})
    if name in ("GET /api/v1/sessions", "GET /api/v1/sessions.csv") and _positive(case, ParameterLocation.QUERY) and case.query:
        _real_days(case.query)
    if name == "GET /api/v1/users/{user}/stats" and _positive(case, ParameterLocation.QUERY) and case.query:
        _statistics_range(case.query)
    if name in ("GET /api/v1/branches/{branch}/tickets", "GET /api/v1/branches/{branch}/tickets.csv") and _positive(case, ParameterLocation.QUERY) and case.query:
        _ticket_filter(case.query, REFERENCES.get(name, {}))
    reports = ("GET /api/v1/reports", "GET /api/v1/reports.csv", "GET /api/v1/reports.pdf", "GET /api/v1/me/report", "GET /api/v1/complaints")
    if name in reports and _positive(case, ParameterLocation.QUERY) and case.query:
        _report_query(case.query, REFERENCES.get(name, {}))
    if name in PLANS and _positive(case, ParameterLocation.QUERY) and case.query and isinstance(case.query.get("from"), str):
        case.query["from"] = _day(case.query["from"], *PLANNED).isoformat()
    if _positive(case, ParameterLocation.HEADER) and case.headers:
        for header in list(case.headers):
            if header.lower() == "idempotency-key" and isinstance(case.headers[header], str):
                with _keys_lock:
                    number = next(_keys)
                case.headers[header] = f"{case.headers[header][:180]}-{number}"
    return case
