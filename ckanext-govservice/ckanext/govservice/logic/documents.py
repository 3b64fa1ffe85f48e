"""Actions of the documents family (issue 16); see logic/__init__.py for how they are registered."""
from __future__ import annotations

# The read actions anyone may call.
ANYONE_MAY: tuple[str, ...] = ()
