"""A feed's reminders (service.yaml's repeating field, issue 17) reach the service as sent."""
from __future__ import annotations

import json
from pathlib import Path

from govharvest import normalise

EXAMPLE = Path(__file__).resolve().parents[3] / "datasets" / "templates" / "services-feed-example.json"


def _example() -> dict:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data["services"][0] if isinstance(data, dict) else data[0]


def test_the_feed_examples_reminders_are_read_with_their_trigger_offset_and_renewed_output():
    reminders = normalise.normalise(_example())["reminders"]
    assert [(r["trigger"], r["offset"], r["offset_unit"], r["direction"], r.get("renews_basic_code"))
            for r in reminders] == [("moving_home", 30, "days", "after", None),
                                    ("output_expiry", 1, "years", "before", "330000-QR-0123-01")]
