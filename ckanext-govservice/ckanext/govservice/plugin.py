from __future__ import annotations

import json
from typing import Any

from ckan.common import CKANConfig
import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import search

SERVICE_SCHEMA = "ckanext.govservice:schemas/service.yaml"
DEPARTMENT_SCHEMA = "ckanext.govservice:schemas/department.yaml"


@tk.blanket.actions
@tk.blanket.auth_functions
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers
@tk.blanket.validators
class GovServicePlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IPackageController, inherit=True)

    # IConfigurer
    def update_config(self, config: CKANConfig):
        # Our dataset and organisation types live in our own package; a site
        # that lists no schemas of its own gets ours, so scheming (loaded after
        # us) finds them.
        if not config.get("scheming.dataset_schemas"):
            config["scheming.dataset_schemas"] = SERVICE_SCHEMA
        if not config.get("scheming.organization_schemas"):
            config["scheming.organization_schemas"] = DEPARTMENT_SCHEMA
        tk.add_template_directory(config, "templates")

    # IPackageController
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if pkg_dict.get("type") != "service":
            return pkg_dict
        validated = json.loads(pkg_dict["validated_data_dict"])
        add, drop = search.service_index_fields(validated)
        for key in drop:
            pkg_dict.pop(key, None)
        pkg_dict.update(add)
        return pkg_dict
