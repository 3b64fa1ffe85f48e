from __future__ import annotations

from ckan.common import CKANConfig
import ckan.plugins as p
import ckan.plugins.toolkit as tk

SERVICE_SCHEMA = "ckanext.govservice:schemas/service.yaml"


@tk.blanket.actions
@tk.blanket.auth_functions
@tk.blanket.cli
@tk.blanket.config_declarations
class GovServicePlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)

    # IConfigurer
    def update_config(self, config: CKANConfig):
        # Our dataset types live in our own package; a site that lists no
        # schemas of its own gets ours, so scheming (loaded after us) finds them.
        if not config.get("scheming.dataset_schemas"):
            config["scheming.dataset_schemas"] = SERVICE_SCHEMA
