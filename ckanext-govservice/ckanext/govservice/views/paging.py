"""The page a listing was asked for (``?page=``), shared by the paged pages."""
from __future__ import annotations

from flask import request

MAX_PAGE = 5000


def page_asked() -> int:
    """``?page=`` as a page number from 1; anything else (absent, not a whole
    number, 0, past MAX_PAGE) is the first page, as a mistyped link should be."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_PAGE else 1
