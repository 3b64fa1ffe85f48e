from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict


@tk.auth_allow_anonymous_access
def govservice_health(context: Context, data_dict: DataDict) -> AuthResult:
    # Public: it reveals versions and up/down only, never credentials.
    return {"success": True}


@tk.auth_allow_anonymous_access
def govservice_schema(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@tk.auth_allow_anonymous_access
def govservice_service_show(context: Context, data_dict: DataDict) -> AuthResult:
    # package_search and package_show, called inside, apply the real permissions.
    return {"success": True}
