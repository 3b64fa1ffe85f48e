"""Service centres (办事大厅), without CKAN: their opening hours and counters.

Opening hours are written in one compact, strict form, the one the centre
page shows and the feeds send::

    Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00
    24/7
    Mo-Su 00:00-24:00
    Fr 20:00-02:00                 (past midnight: open until 2 in the night to Saturday)
    Mo-Fr 09:00-17:00; We off      (a later rule replaces the days it names)

Rules are separated by ``;``; each names days (``Mo Tu We Th Fr Sa Su``, ranges
``Mo-Fr`` and lists ``Mo,We``) and then time ranges ``HH:MM-HH:MM`` separated
by ``,`` (a lunch break is the gap between two ranges), or ``off``. A range
that closes at or before it opens runs past midnight into the next day.
Anything else is refused with the part that could not be read.

``parse_hours`` turns the text into a ``Week`` (minutes from Monday 00:00);
``is_open(week, moment)`` answers "open now" for a local time; ``open_all_day``
says whether a centre never closes (the "24 hours" filter).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
ALWAYS = "24/7"

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_PART = re.compile(r"^[A-Za-z]{2}(-[A-Za-z]{2})?$")


class HoursError(ValueError):
    """Opening hours that cannot be read; the message names the part."""


@dataclass(frozen=True)
class Week:
    """The hours a centre is open in a week, as (opens, closes) minutes from
    Monday 00:00; a range past Sunday midnight wraps to Monday."""
    ranges: tuple[tuple[int, int], ...]

    @property
    def open_all_day(self) -> bool:
        return _covered_minutes(self.ranges) >= MINUTES_A_WEEK


def _minutes(text: str, part: str, closing: bool) -> int:
    found = _TIME.match(text.strip())
    if not found:
        raise HoursError(f"{part!r}: {text.strip()!r} is not a time written HH:MM, such as 08:30")
    hours, minutes = int(found.group(1)), int(found.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not closing)):
        raise HoursError(f"{part!r}: {text.strip()!r} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def _days(text: str, part: str) -> list[int]:
    days: list[int] = []
    for piece in text.split(","):
        piece = piece.strip()
        if not _DAY_PART.match(piece):
            raise HoursError(f"{part!r}: {piece!r} is not a day or a range of days "
                             f"(write {' '.join(DAYS)}, or a range such as Mo-Fr)")
        ends = [p.capitalize() for p in piece.split("-")]
        unknown = [e for e in ends if e not in DAYS]
        if unknown:
            raise HoursError(f"{part!r}: {unknown[0]!r} is not a day (write {' '.join(DAYS)})")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        if last < first:
            raise HoursError(f"{part!r}: the range {piece} runs backwards (write it from Monday's side, "
                             f"such as Mo-Fr, or as two parts)")
        days.extend(range(first, last + 1))
    return days


def _day_ranges(text: str, part: str) -> list[tuple[int, int]]:
    if text.strip().lower() == "off":
        return []
    ranges = []
    for piece in text.split(","):
        if "-" not in piece:
            raise HoursError(f"{part!r}: {piece.strip()!r} is not a time range such as 09:00-17:00")
        opens_text, closes_text = piece.split("-", 1)
        opens = _minutes(opens_text, part, closing=False)
        closes = _minutes(closes_text, part, closing=True)
        if closes <= opens:                   # past midnight, into the next day
            closes += MINUTES_A_DAY
        ranges.append((opens, closes))
    ranges.sort()
    for (_, closes), (opens, _) in zip(ranges, ranges[1:]):
        if opens < closes:
            raise HoursError(f"{part!r}: its time ranges overlap")
    return ranges


def parse_hours(text: Any) -> Week:
    """The week of opening hours written in ``text`` (see the module's doc).

    :raises HoursError: naming the part that cannot be read and why
    """
    if not isinstance(text, str) or not text.strip():
        raise HoursError("no opening hours given (write them such as Mo-Fr 09:00-17:00, or 24/7)")
    text = text.strip()
    if text == ALWAYS:
        return Week(((0, MINUTES_A_WEEK),))
    by_day: dict[int, list[tuple[int, int]]] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        pieces = part.split(None, 1)
        if len(pieces) != 2:
            raise HoursError(f"{part!r}: name the days and then the hours, such as Mo-Fr 09:00-17:00")
        days, hours = pieces
        day_ranges = _day_ranges(hours, part)
        for day in _days(days, part):
            by_day[day] = day_ranges                  # a later rule replaces the day
    if not by_day:
        raise HoursError("no opening hours given (write them such as Mo-Fr 09:00-17:00, or 24/7)")
    week = []
    for day, day_ranges in sorted(by_day.items()):
        week.extend((day * MINUTES_A_DAY + o, day * MINUTES_A_DAY + c) for o, c in day_ranges)
    return Week(tuple(week))


def normalise_hours(text: Any) -> str:
    """The hours as written back by the platform: one rule per group of days,
    ``Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00`` (or ``24/7``).

    :raises HoursError: as ``parse_hours``
    """
    week = parse_hours(text)
    if week.open_all_day:
        return ALWAYS
    return "; ".join(f"{_day_list(days)} {hours}" for days, hours in _rules(week))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _rules(week: Week) -> list[tuple[list[int], str]]:
    """[(days, "08:30-12:00,13:30-17:00")] grouping the days with the same hours, by first day."""
    by_day: dict[int, list[str]] = {}
    for opens, closes in week.ranges:
        day, start = divmod(opens, MINUTES_A_DAY)
        end = closes - day * MINUTES_A_DAY
        by_day.setdefault(day, []).append(f"{_clock(start)}-{_clock(end % MINUTES_A_DAY if end > MINUTES_A_DAY else end)}")
    groups: dict[str, list[int]] = {}
    for day, ranges in sorted(by_day.items()):
        groups.setdefault(",".join(ranges), []).append(day)
    return sorted(((days, hours) for hours, days in groups.items()), key=lambda r: r[0][0])


def _day_list(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" for r in runs)


def _covered_minutes(ranges: Iterable[tuple[int, int]]) -> int:
    """Minutes of the week inside at least one range (a range past Sunday wraps to Monday)."""
    pieces = []
    for opens, closes in ranges:
        pieces.append((opens, min(closes, MINUTES_A_WEEK)))
        if closes > MINUTES_A_WEEK:
            pieces.append((0, closes - MINUTES_A_WEEK))
    covered, reach = 0, 0
    for opens, closes in sorted(pieces):
        opens = max(opens, reach)
        if closes > opens:
            covered += closes - opens
            reach = closes
    return covered


def minute_of_week(moment: dt.datetime) -> int:
    """Minutes from Monday 00:00 of a local time."""
    return moment.weekday() * MINUTES_A_DAY + moment.hour * 60 + moment.minute


def is_open(week: Week, moment: dt.datetime) -> bool:
    """Whether the centre is open at ``moment``, a time in the centre's own
    timezone (its wall clock); a range that runs past midnight counts on the
    next day, and past Sunday midnight on Monday."""
    now = minute_of_week(moment)
    return any(opens <= t < closes for opens, closes in week.ranges
               for t in (now, now + MINUTES_A_WEEK))


def open_at(text: Any, moment: dt.datetime) -> bool | None:
    """``is_open`` for hours as written; None when they cannot be read."""
    try:
        return is_open(parse_hours(text), moment)
    except HoursError:
        return None


def open_all_day(text: Any) -> bool:
    """Whether hours as written never close (the "24 hours" filter); False when unreadable."""
    try:
        return parse_hours(text).open_all_day
    except HoursError:
        return False


def hours_table(text: Any) -> list[dict[str, Any]]:
    """The week as rows for a page: ``[{"day": "Mo", "ranges": ["08:30-12:00", …]}]``
    for each day Monday to Sunday (an empty list: closed); [] when unreadable."""
    try:
        week = parse_hours(text)
    except HoursError:
        return []
    if week.open_all_day:
        return [{"day": d, "ranges": ["00:00-24:00"]} for d in DAYS]
    by_day = {d: [] for d in range(7)}
    for days, hours in _rules(week):
        for day in days:
            by_day[day] = hours.split(",")
    return [{"day": DAYS[d], "ranges": by_day[d]} for d in range(7)]


# ---------------------------------------------------------------- counters

def counter_codes(counters: Any) -> list[str]:
    """Every implementation code (实施编码) the counters of a centre handle, sorted, once each."""
    codes: set[str] = set()
    for counter in counters if isinstance(counters, list) else []:
        if isinstance(counter, dict):
            codes.update(str(c).strip() for c in counter_services(counter) if str(c).strip())
    return sorted(codes)


def counter_services(counter: dict[str, Any]) -> list[str]:
    """The implementation codes one counter handles, however the feed wrote them
    (a list, JSON text, or codes separated by spaces, commas or semicolons)."""
    value = counter.get("implementation_codes")
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,;，；、\[\]\"]+", value) if v]
    return []


def check_coordinates(latitude: Any, longitude: Any) -> dict[str, str]:
    """{field: reason} for coordinates out of range or given alone (both are
    optional together). Numbers as text are read."""
    given = {k: v for k, v in (("latitude", latitude), ("longitude", longitude)) if v not in (None, "")}
    if len(given) == 1:
        missing = "longitude" if "latitude" in given else "latitude"
        return {missing: f"give the {missing} too: a centre is placed by both coordinates or by neither"}
    problems = {}
    for name, limit in (("latitude", 90), ("longitude", 180)):
        if name not in given:
            continue
        try:
            value = float(given[name])
        except (TypeError, ValueError):
            problems[name] = f"must be a number in degrees (got {given[name]!r})"
            continue
        if not -limit <= value <= limit:
            problems[name] = f"must be between -{limit} and {limit} degrees (got {value:g})"
    return problems


# ---------------------------------------------------------------- schema.org and the map

SCHEMA_ORG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def schema_org(centre: dict[str, Any], url: str) -> dict[str, Any]:
    """The centre as schema.org JSON-LD: a GovernmentOffice with its address,
    place, telephone and openingHoursSpecification (one per day and range)."""
    out: dict[str, Any] = {"@context": "https://schema.org", "@type": "GovernmentOffice", "@id": url, "url": url,
                           "identifier": centre.get("centre_code"), "name": centre.get("title")}
    if centre.get("title_en"):
        out["alternateName"] = centre["title_en"]
    if centre.get("address"):
        out["address"] = centre["address"]
    if centre.get("phone"):
        out["telephone"] = centre["phone"]
    if centre.get("latitude") not in (None, "") and centre.get("longitude") not in (None, ""):
        out["geo"] = {"@type": "GeoCoordinates", "latitude": float(centre["latitude"]),
                      "longitude": float(centre["longitude"])}
    specification = []
    for day, row in zip(SCHEMA_ORG_DAYS, hours_table(centre.get("opening_hours"))):
        for hours in row["ranges"]:
            opens, closes = hours.split("-")
            specification.append({"@type": "OpeningHoursSpecification", "dayOfWeek": f"https://schema.org/{day}",
                                  "opens": opens, "closes": "23:59" if closes == "24:00" else closes})
    if specification:
        out["openingHoursSpecification"] = specification
    if centre.get("appointment_url"):
        out["potentialAction"] = {"@type": "ReserveAction", "target": centre["appointment_url"]}
    return out


TILE_SIZE = 256


def map_tiles(latitude: Any, longitude: Any, zoom: int = 16, around: int = 1) -> dict[str, Any] | None:
    """The web-map tiles (slippy map, Web Mercator) around a point: rows of
    ``{"z", "x", "y"}`` (a square of 2·around+1 tiles, the point's tile in the
    middle) and where the point is in that square, as percentages from its
    left and top; None without coordinates."""
    import math
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    lat = max(min(lat, 85.0511), -85.0511)
    n = 2 ** zoom
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    tx, ty = int(x), int(y)
    side = 2 * around + 1
    rows = [[{"z": zoom, "x": (tx + dx) % n, "y": ty + dy} for dx in range(-around, around + 1)]
            for dy in range(-around, around + 1) if 0 <= ty + dy < n]
    return {"rows": rows, "left": round((x - tx + around) / side * 100, 2),
            "top": round((y - ty + around) / side * 100, 2)}
