from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict


@tk.auth_allow_anonymous_access
def govservice_health(context: Context, data_dict: DataDict) -> AuthResult:
    # Public: it reveals versions and up/down only, never credentials.
    return {"success": True}
