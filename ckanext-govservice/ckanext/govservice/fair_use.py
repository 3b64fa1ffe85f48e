"""Fair use of the Action API: a request budget per API token and per address.

Flask-Limiter counts, in the site's Redis, the Action API requests
(``/api/action/…``, ``/api/3/action/…``) of each caller: a request with an API
token is counted against that token (``per_token``), one without against its
address (``per_address``). Pages, assets and the API's description are not
counted. Over its budget a caller gets ``429 Too Many Requests`` in CKAN's
envelope, with ``Retry-After`` (seconds) and a message saying which budget and
when it refills. Sysadmins, the site user and the accounts named in
``exempt_users`` (the harvesters' account, when it is not a sysadmin) are
never limited. Redis unreachable: the requests are let through (and logged),
never a 500.

Every Action API response also says the API's version (``X-GovService-API-Version``),
and a JSON or form body over ``ckanext.govservice.api.max_body_bytes`` is refused
with 400 before it is read.

Settings: ``ckanext.govservice.api.rate_limit.*`` in config_declaration.yaml.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request

import ckan.plugins.toolkit as tk

from .openapi import API_VERSION, VERSION_HEADER

log = logging.getLogger(__name__)

OPTION = "ckanext.govservice.api.rate_limit."
MAX_BODY_OPTION = "ckanext.govservice.api.max_body_bytes"
ACTION_API = re.compile(r"^/api/(\d+/)?action/")


def is_action_api(path: str) -> bool:
    return bool(ACTION_API.match(path or ""))


def caller_address(remote_addr: str | None, forwarded_for: str | None, proxies: int) -> str:
    """The client's address: the socket's, or, behind ``proxies`` trusted proxies
    that append to X-Forwarded-For (nginx's ``$proxy_add_x_forwarded_for``), the
    address the outermost of them saw. Entries before it may be forged."""
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    if proxies > 0 and len(hops) >= proxies:
        return hops[-proxies]
    return remote_addr or "unknown"


def _user() -> Any:
    """The signed-in user or the API token's, or None (flask-login's, identified on first use)."""
    from ckan.common import current_user
    return current_user if current_user.is_authenticated else None


def _token_key() -> str | None:
    header = request.headers.get(tk.config.get("apitoken_header_name") or "Authorization")
    if header and _user() is not None and g.get("login_via_auth_header"):
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return None


def caller_key() -> str:
    """Who a request is counted against: its API token, else its user (a signed-in
    browser), else its address."""
    token = _token_key()
    if token:
        return token
    user = _user()
    if user is not None:
        return f"user:{user.id}"
    return "address:" + caller_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                                       tk.config.get(OPTION + "proxies"))


def caller_limit() -> str:
    """The budget of this request's caller (a limits string such as ``600/minute``)."""
    if caller_key().startswith("address:"):
        return tk.config.get(OPTION + "per_address")
    return tk.config.get(OPTION + "per_token")


def exempt() -> bool:
    """Not counted: anything but the Action API; sysadmins, the site user and the exempt accounts."""
    if not is_action_api(request.path):
        return True
    user = _user()
    if user is None:
        return False
    exempt_users = set(tk.aslist(tk.config.get(OPTION + "exempt_users")))
    exempt_users.add(tk.config.get("ckan.site_id"))   # the site user is named after the site
    return bool(user.sysadmin) or user.name in exempt_users


def _which(key: str) -> str:
    return "this API token's" if key.startswith("token:") else (
        "this account's" if key.startswith("user:") else "this address's")


def too_many_requests(limit: Any, reset_at: float | None) -> Response:
    """429 in CKAN's envelope: what was exceeded and when to come back."""
    retry_after = max(1, math.ceil((reset_at or time.time() + 1) - time.time()))
    key = caller_key()
    message = (f"Rate limit exceeded: {_which(key)} budget is {limit} requests on the Action API. "
               f"Try again in {retry_after} s. Bulk files and the DataStore's SQL answer more per "
               "request; see /api/govservice/getting-started for fair use.")
    response = jsonify({"help": request.url_root + "api/govservice/getting-started",
                        "success": False,
                        "error": {"__type": "Rate Limit Exceeded", "message": message,
                                  "limit": str(limit), "retry_after": retry_after}})
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def refuse_oversized_body() -> Response | None:
    """An Action API request whose JSON or form body is larger than ``max_body_bytes``
    is answered 400, keyed by ``body``, before anything reads it. File uploads
    (multipart, as govservice_statistics_load takes) are bounded by CKAN's own limits."""
    if not is_action_api(request.path) or request.mimetype == "multipart/form-data":
        return None
    limit = tk.config.get(MAX_BODY_OPTION)
    size = request.content_length or 0
    if not limit or size <= limit:
        return None
    response = jsonify({"help": request.url_root + "api/govservice/getting-started", "success": False,
                        "error": {"__type": "Bad Request", "body": [
                            f"the request body is {size:,} bytes; the Action API takes at most {limit:,} "
                            "(send a statistics file as an upload, or ask for fewer rows at a time)"]}})
    response.status_code = 400
    return response


def _add_version(response: Response) -> Response:
    """The API's version on every Action API response. (Registered before the limiter,
    so it runs after it: Flask-Limiter's Retry-After is kept for 429 alone, where it
    means something; the X-RateLimit-* headers say the budget left on every answer.)"""
    if is_action_api(request.path):
        response.headers[VERSION_HEADER] = API_VERSION
        if response.status_code != 429:
            response.headers.pop("Retry-After", None)
    return response


def install(app: Flask) -> None:
    """Count the Action API's requests on ``app`` (when enabled) and stamp its responses with the version."""
    app.after_request(_add_version)
    app.before_request(refuse_oversized_body)
    if not tk.config.get(OPTION + "enabled"):
        return
    from flask_limiter import Limiter
    from flask_limiter.errors import RateLimitExceeded

    storage = tk.config.get(OPTION + "storage_url") or tk.config.get("ckan.redis.url")
    limiter = Limiter(
        key_func=caller_key,
        app=app,
        application_limits=[caller_limit],
        application_limits_exempt_when=exempt,
        storage_uri=storage,
        strategy="fixed-window",
        key_prefix=f"govservice-api:{tk.config.get('ckan.site_id')}",
        headers_enabled=True,
        # Redis down: serve the request rather than answer 500 (logged by Flask-Limiter).
        swallow_errors=True,
    )

    def answer(error: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        return too_many_requests(error.limit.limit if error.limit else "", current.reset_at if current else None)

    app.register_error_handler(RateLimitExceeded, answer)
    app.extensions["govservice_limiter"] = limiter
