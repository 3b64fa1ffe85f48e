"""The demo city's figures of in-person service at the counters (issue 17).

For a service's in-person row of a month: appointments made and kept, people
served, those served within 30 minutes, and the mean and 90th-percentile wait
from ticket to call. Each row draws from a generator of its own (seeded by the
demo's seed, the department, the service and the month), so these figures moved
none of those the city generator had drawn before them.

Waits are modelled as exponential: with a mean wait m, the share called within
30 minutes is 1 − e^(−30/m) and the 90th percentile m·ln 10. They shorten over
the three years (more appointments, more counters) and lengthen with the
backlog of a service that is often late. The halls' queue system has recorded
them since January 2025 (RECORDED_FROM): earlier months have none.
"""
from __future__ import annotations

import math
import random
from typing import Any

MONTHS = 36
RECORDED_FROM = "2025-01"


def figures(seed: int, department: str, service_code: str, period: str, t: int, channel: str,
            received: int, late_share: float) -> dict[str, Any]:
    """The in-person columns of one row ({} for any other channel)."""
    if channel != "in_person" or period < RECORDED_FROM:
        return {}
    rng = random.Random(f"{seed}/{department}/{service_code}/{period}/in-person")
    served = received                          # each applicant at the counter took a ticket
    made = round(received * rng.uniform(0.25, 0.45) * (1 + t / MONTHS))
    kept = made - round(made * rng.uniform(0.05, 0.25))
    mean = max(3.0, rng.uniform(14, 30) * (1 - 0.4 * t / MONTHS) * (1 + late_share))
    return {"appointments_made": made, "appointments_kept": kept, "served": served,
            "served_within_30_minutes": round(served * (1 - math.exp(-30 / mean))),
            "wait_minutes_mean": round(mean, 1), "wait_minutes_p90": round(mean * math.log(10), 1)}
