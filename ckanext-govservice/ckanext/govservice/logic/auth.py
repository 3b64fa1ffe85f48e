from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict


@tk.auth_allow_anonymous_access
def anyone(context: Context, data_dict: DataDict) -> AuthResult:
    """Anyone, logged in or not, may call the action: it reads published data
    (the package_search and package_show it calls inside apply the real
    permissions), and govservice_health keeps hosts and versions for sysadmins."""
    return {"success": True}


# The public read actions; logic.get_auth_functions registers ``anyone`` for each.
ANYONE_MAY = ("govservice_health", "govservice_schema", "govservice_service_show",
              "govservice_kpis", "govservice_league_table", "govservice_standards",
              "govservice_standard_results", "govservice_synonym_list", "govservice_suggest")


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


# ---------------------------------------------------------------- the statistics table

def _statistics_rows(resource_id: Any) -> bool:
    """Whether a DataStore call is about the platform's statistics table."""
    from ckan import model
    from .. import statistics_store
    resource = model.Resource.get(resource_id) if isinstance(resource_id, str) else None
    return resource is not None and (resource.extras or {}).get(statistics_store.RESOURCE_KEY) == "rows"


NOT_THROUGH_THE_DATASTORE = (
    "the service statistics table is written only by govservice_statistics_load, one "
    "department's file at a time: it checks every row and keeps the KPI figures in step. "
    "Load a corrected file there; reading stays open to datastore_search and datastore_search_sql")


def _loader_only(next_auth, context: Context, data_dict: DataDict, resource_id: Any) -> AuthResult:
    """Refuse a DataStore write to the statistics table (even to sysadmins:
    it would skip every rule and leave the KPI sums behind); anything else
    goes on to CKAN's own check."""
    if _statistics_rows(resource_id):
        return {"success": False, "msg": NOT_THROUGH_THE_DATASTORE}
    return next_auth(context, data_dict)


@tk.chained_auth_function
@tk.auth_sysadmins_check
def datastore_upsert(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    return _loader_only(next_auth, context, data_dict, data_dict.get("resource_id"))


@tk.chained_auth_function
@tk.auth_sysadmins_check
def datastore_delete(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    # Without filters this drops the whole table: every department's figures.
    return _loader_only(next_auth, context, data_dict, data_dict.get("resource_id"))


@tk.chained_auth_function
@tk.auth_sysadmins_check
def datastore_records_delete(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    return _loader_only(next_auth, context, data_dict, data_dict.get("resource_id"))


@tk.chained_auth_function
@tk.auth_sysadmins_check
def datastore_create(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    # With records it adds rows past the rules; with fields it reshapes the
    # table the KPI engine reads. The platform itself recreates or re-keys the
    # table (statistics_publish.statistics_table) as the site user.
    resource_id = data_dict.get("resource_id") or (data_dict.get("resource") or {}).get("id")
    return _loader_only(next_auth, context, data_dict, resource_id)


# The statistics table's resource: resource_delete drops the table through the
# DataStore's own hook; resource_update (the resource form) drops the marker
# that finds it, and the next load would start an empty table. The actions
# check again (logic/action.py), since ignore_auth skips these.

NOT_THE_FORM = (
    "the service statistics resource is kept by the platform: deleting or editing it would "
    "lose every department's figures. The table is written only by govservice_statistics_load; "
    "load a corrected file there")


def _platform_only(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    from .. import publishing
    if _statistics_rows(data_dict.get("id")) and not publishing.is_platform(context):
        return {"success": False, "msg": NOT_THE_FORM}
    return next_auth(context, data_dict)


@tk.chained_auth_function
@tk.auth_sysadmins_check
def resource_delete(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    return _platform_only(next_auth, context, data_dict)


@tk.chained_auth_function
@tk.auth_sysadmins_check
def resource_update(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    return _platform_only(next_auth, context, data_dict)


@tk.chained_auth_function
@tk.auth_sysadmins_check
def resource_patch(next_auth, context: Context, data_dict: DataDict) -> AuthResult:
    return _platform_only(next_auth, context, data_dict)


# ---------------------------------------------------------------- service standards

def govservice_standards_set(context: Context, data_dict: DataDict) -> AuthResult:
    # The data office (sysadmins, let through before this runs) sets any standard;
    # a department's editors and admins set their own department's and services'.
    from ckan import authz, model
    user = context.get("user")
    if not user:
        return {"success": False, "msg": "log in to set service standards"}
    if data_dict.get("platform"):
        return {"success": False, "msg": "only the data office (sysadmins) sets platform standards"}
    for name in data_dict.get("departments") or []:
        group = model.Group.get(name)
        if group is None:
            continue   # the action says the department does not exist
        if not authz.has_user_permission_for_group_or_org(group.id, user, "create_dataset"):
            return {"success": False,
                    "msg": f"{user or 'an anonymous user'} may not set standards for {name}"}
    return {"success": True}


def govservice_feed_health(context: Context, data_dict: DataDict) -> AuthResult:
    # The data office (sysadmins) sees every department; a department's members
    # see their own: the last errors name the department's own systems.
    from ckan import authz, model
    user, name = context.get("user"), data_dict.get("department")
    group = model.Group.get(name) if name else None
    if group is not None and authz.has_user_permission_for_group_or_org(group.id, user, "read"):
        return {"success": True}
    return {"success": False, "msg": "feed health is for the data office, and each department for its own"}


# ---- service search synonyms (issue 15) --------------------------------------

def _department_admin(context: Context, owner: Any, what: str) -> AuthResult:
    # Sysadmins pass before this runs; a department's admins manage its own entries.
    from ckan import authz
    if owner and authz.has_user_permission_for_group_or_org(owner, context.get("user"), "admin"):
        return {"success": True}
    return {"success": False, "msg": f"only sysadmins and the owning department's admins can {what}"}


def govservice_synonym_create(context: Context, data_dict: DataDict) -> AuthResult:
    return _department_admin(context, data_dict.get("owner_org"), "add synonyms for it")


def govservice_synonym_delete(context: Context, data_dict: DataDict) -> AuthResult:
    return _department_admin(context, data_dict.get("owner_org"), "remove this synonym")




# ---------------------------------------------------------------- webhooks (logic/subscriptions.py)

def _signed_in(context: Context, data_dict: DataDict) -> AuthResult:
    """Any signed-in user (or API token) manages webhooks; the actions show and
    change only the user's own (a sysadmin's: everyone's)."""
    if context.get("auth_user_obj") or context.get("user"):
        return {"success": True}
    return {"success": False, "msg": "sign in (or send your API token) to manage webhooks"}


govservice_webhook_create = govservice_webhook_list = _signed_in
govservice_webhook_delete = govservice_webhook_deliveries = _signed_in
