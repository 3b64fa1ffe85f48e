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


def govservice_catalogue_build(context: Context, data_dict: DataDict) -> AuthResult:
    # Sysadmins only (CKAN lets them through before this runs): a rebuild
    # rewrites every department's published files.
    return {"success": False, "msg": "only sysadmins can rebuild the catalogue files"}


def govservice_statistics_load(context: Context, data_dict: DataDict) -> AuthResult:
    # A department's editors and admins publish its statistics, as they
    # publish its services.
    from ckan import authz
    user = context.get("user")
    org = data_dict.get("owner_org")
    if org and authz.has_user_permission_for_group_or_org(org, user, "create_dataset"):
        return {"success": True}
    return {"success": False,
            "msg": f"{user or 'an anonymous user'} may not publish statistics for this department"}


@tk.auth_allow_anonymous_access
def govservice_kpis(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@tk.auth_allow_anonymous_access
def govservice_league_table(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}
