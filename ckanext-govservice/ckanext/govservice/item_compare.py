"""Issue 16 (one network): see the module's own docstring once written."""
from __future__ import annotations

from typing import Any, Callable

# Template helpers this module offers (registered by helpers.get_helpers).
TEMPLATE_HELPERS: dict[str, Callable[..., Any]] = {}
