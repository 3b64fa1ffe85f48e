"""The platform's Action API, one module per family of actions.

``action`` (services, statistics, KPIs, standards, synonyms), ``items`` (the
basic item catalogue and the same item compared across implementers) and
``documents`` (the document catalogue and its reuse index). Each module's
public functions are its actions; its ``ANYONE_MAY`` names the read actions
anyone may call, and ``auth`` holds the checks of the others.
"""
from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, Callable

from . import action, auth, bulk_show, centres, documents, due, exports, items, queues, subscriptions

ACTION_MODULES = (action, items, documents, queues, centres, due, subscriptions, exports, bulk_show)


def _own_functions(module: ModuleType) -> dict[str, Callable[..., Any]]:
    return {name: f for name, f in inspect.getmembers(module, inspect.isfunction)
            if f.__module__ == module.__name__ and not name.startswith("_")}


def get_actions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module in ACTION_MODULES:
        for name, f in _own_functions(module).items():
            if name in found:
                raise RuntimeError(f"action {name} is defined in two modules")
            found[name] = f
    return found


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    found = {name: f for name, f in _own_functions(auth).items() if name != "anyone"}
    for module in (auth, *ACTION_MODULES):
        found.update({name: auth.anyone for name in getattr(module, "ANYONE_MAY", ())})
    return found
