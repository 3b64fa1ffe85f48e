"""Webhooks: a developer registers an address to be told, as signed JSON, when
a service, a department's services, a theme's or a life event's change
(subscriptions.py delivers them). Each user sees and manages only their own
webhooks and delivery logs; sysadmins see every one."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import subscriptions

MAX_DELIVERIES_SHOWN = 100


def _user(context: Context) -> Any:
    from ckan import model
    user = model.User.get(context.get("user") or "")
    if user is None:
        raise tk.NotAuthorized("sign in (or send your API token) to manage webhooks")
    return user


def _text(data_dict: DataDict, key: str, errors: dict[str, list[str]]) -> str:
    value = data_dict.get(key)
    if not isinstance(value, str) or not value.strip():
        errors[key] = ["Missing value"]
        return ""
    return value.strip()


def _followed_exists(context: Context, follows: str, value: str) -> str | None:
    """Why ``value`` names nothing this webhook could follow (None when it does)."""
    if follows in ("theme", "life_event"):
        return None if subscriptions.vocabulary_value(follows, value) else \
            f"{value!r} is not a code of the {follows.replace('_', ' ')} vocabulary (see govservice_schema)"
    action, what = ("package_show", "service") if follows == "service" else ("organization_show", "department")
    try:
        found = tk.get_action(action)({"user": context.get("user")}, {"id": value})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return f"there is no {what} {value!r}"
    if follows == "service" and found.get("type") != "service":
        return f"{value!r} is a dataset, not a service"
    return None


def _own(context: Context, webhook_id: Any) -> dict[str, Any]:
    """The webhook, when the user may see it (its owner, or a sysadmin); the same
    NotFound for another's webhook as for none, so its existence is not told."""
    user = _user(context)
    hook = subscriptions.webhook(webhook_id) if isinstance(webhook_id, str) and webhook_id else None
    if hook is None or (hook["owner"] != user.id and not user.sysadmin):
        raise tk.ObjectNotFound(f"there is no webhook {webhook_id!r} of yours")
    return hook


def govservice_webhook_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Register a webhook: the platform POSTs a signed JSON body to its target
    address each time what it follows changes (a service's fee, documents, limits,
    channels, status…), after the change is saved; a failed delivery is tried
    again after a doubling wait, and a webhook failing 10 times in a row (by
    default) is turned off.

    Each body carries ``event`` (service.published, service.changed or
    service.withdrawn), ``id`` (the change), ``changed_at``, ``follows``,
    ``service`` (name, title, implementation_code, status, url, department)
    and ``changes`` (each ``{"field", "zh_Hans_CN", "en"}``, a sentence such as
    "Fees (工本费): 80.00 → 0.00 yuan"); headers X-GovService-Event,
    X-GovService-Delivery and X-GovService-Signature: ``sha256=`` and the hex
    HMAC-SHA256 of the body under the secret.

    :param target_url: the http(s) address to POST to; a loopback, private or
        link-local address is refused, as for a harvest source
    :type target_url: string
    :param follows: what to follow: ``service``, ``department``, ``theme`` or ``life_event``
    :type follows: string
    :param value: the service's or department's name, or the theme's or life event's code
    :type value: string

    :returns: the webhook: ``id``, ``target_url``, ``follows``, ``value``,
        ``active``, ``created_at`` and ``secret`` (shown this once only)
    :rtype: dictionary
    :raises ValidationError: a field missing or refused, naming it and why;
        more webhooks than a user may register
    :raises NotAuthorized: not signed in
    """
    tk.check_access("govservice_webhook_create", context, data_dict)
    user = _user(context)
    errors: dict[str, list[str]] = {}
    target = _text(data_dict, "target_url", errors)
    follows = _text(data_dict, "follows", errors)
    value = _text(data_dict, "value", errors)
    if follows and follows not in subscriptions.FOLLOWS:
        errors["follows"] = [f"must be one of {', '.join(subscriptions.FOLLOWS)}, not {follows!r}"]
    if target and len(target) > 2000:
        errors["target_url"] = ["must be at most 2000 characters"]
    elif target:
        why = subscriptions.check_target(target)
        if why:
            errors["target_url"] = [why]
    if value and "follows" not in errors and follows:
        why = _followed_exists(context, follows, value)
        if why:
            errors["value"] = [why]
    limit = int(tk.config.get("ckanext.govservice.webhooks.per_user"))
    if not errors and subscriptions.count_of(user.id) >= limit:
        errors["webhooks"] = [f"you have {limit} webhooks, as many as a user may register; delete one first"]
    if errors:
        raise tk.ValidationError(errors)
    return subscriptions.create(user.id, target, follows, value)


@tk.side_effect_free
def govservice_webhook_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Your webhooks (a sysadmin sees everyone's), oldest first, without their secrets.

    :returns: ``[{"id", "owner", "target_url", "follows", "value", "active",
        "failures_in_a_row", "disabled_reason", "created_at"}]``; ``active`` is
        false and ``disabled_reason`` says why when repeated failures turned it off
    :rtype: list of dictionaries
    :raises NotAuthorized: not signed in
    """
    tk.check_access("govservice_webhook_list", context, data_dict)
    user = _user(context)
    return subscriptions.webhooks(None if user.sysadmin else user.id)


def govservice_webhook_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Delete one of your webhooks and its delivery log; nothing more is sent to it.

    :param id: the webhook's id
    :type id: string

    :returns: ``{"id": the webhook's id, "deleted": true}``
    :rtype: dictionary
    :raises ObjectNotFound: no webhook of yours has this id
    :raises NotAuthorized: not signed in
    """
    tk.check_access("govservice_webhook_delete", context, data_dict)
    hook = _own(context, data_dict.get("id"))
    subscriptions.delete(hook["id"])
    return {"id": hook["id"], "deleted": True}


@tk.side_effect_free
def govservice_webhook_deliveries(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The delivery log of one of your webhooks, newest first: each change sent,
    whether it was delivered, is still being tried or was given up, the
    attempts, the receiver's last HTTP status and the last error.

    :param id: the webhook's id
    :type id: string
    :param limit: how many deliveries (optional, default and at most 100)
    :type limit: int

    :returns: ``{"webhook": the webhook (as govservice_webhook_list shows it),
        "deliveries": [{"id", "change", "event", "service", "status"
        (pending, delivered or given_up), "attempts", "last_error",
        "response_code", "queued_at", "next_attempt_at", "delivered_at"}]}``
    :rtype: dictionary
    :raises ObjectNotFound: no webhook of yours has this id
    :raises ValidationError: limit not a whole number from 1 to 100
    :raises NotAuthorized: not signed in
    """
    tk.check_access("govservice_webhook_deliveries", context, data_dict)
    hook = _own(context, data_dict.get("id"))
    limit = data_dict.get("limit", MAX_DELIVERIES_SHOWN)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_DELIVERIES_SHOWN or isinstance(data_dict.get("limit"), bool):
        raise tk.ValidationError({"limit": [f"must be a whole number from 1 to {MAX_DELIVERIES_SHOWN}"]})
    return {"webhook": hook, "deliveries": subscriptions.deliveries(hook["id"], limit)}
