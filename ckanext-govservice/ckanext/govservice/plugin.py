from __future__ import annotations

import datetime
import json
from typing import Any

from ckan.common import CKANConfig
import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from . import catalogue_publish, centres, document_catalogue, helpers, logic, network, search, statistics_publish, views
from . import bulk_load, subscriptions
from .bulk_load import BULK_LOAD     # the context key of a harvest's bulk load

from ckanext.dcat.interfaces import IDCATURIGenerator

try:  # xloader is optional; when present, keep it off our generated catalogue files
    from ckanext.xloader.interfaces import IXloader
except ImportError:  # pragma: no cover
    IXloader = None

DATASET_SCHEMAS = ("ckanext.govservice:schemas/service.yaml ckanext.govservice:schemas/basic_item.yaml "
                  "ckanext.govservice:schemas/document.yaml ckanext.govservice:schemas/service_centre.yaml")
DEPARTMENT_SCHEMA = "ckanext.govservice:schemas/department.yaml"


@tk.blanket.actions(logic.get_actions)          # logic/: one module per family of actions
@tk.blanket.auth_functions(logic.get_auth_functions)
@tk.blanket.blueprints(views.get_blueprints)   # views/: one module per page family
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers(helpers.get_helpers)
@tk.blanket.validators
class GovServicePlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)  # i18n/: Chinese for CKAN's page furniture
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IOrganizationController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(IDCATURIGenerator, inherit=True)
    if IXloader is not None:
        p.implements(IXloader, inherit=True)

    # IConfigurer
    def update_config(self, config: CKANConfig):
        # Our dataset and organisation types live in our own package. CKAN runs
        # update_config in reverse plugin order, so scheming has read its options
        # already: ckan.ini must name the schemas (stack/ckan.ini.in does); these
        # defaults serve code that reads the options later (govservice_schema…).
        if not config.get("scheming.dataset_schemas"):
            config["scheming.dataset_schemas"] = DATASET_SCHEMAS
        if not config.get("scheming.organization_schemas"):
            config["scheming.organization_schemas"] = DEPARTMENT_SCHEMA
        from . import branding
        branding.check(config)                      # the platform's name and logo replace CKAN's
        tk.add_public_directory(config, "public")   # the demo city's logo
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "govservice")

    # IMiddleware: plurals in the page's language (see translation.py); server
    # errors logged with their page and service, answered in the page's language;
    # fair use of the Action API (fair_use.py: 429 over a caller's budget).
    def make_middleware(self, app, config):
        from . import fair_use, server_errors, translation
        app.before_request(translation.restore_plural_rule)
        server_errors.install(app)
        fair_use.install(app)
        from . import search_analytics
        search_analytics.install(app)      # a service opened from the search results
        return app

    # IDCATURIGenerator: services at /id/service/<department>/<code>, catalogue
    # datasets at /dataset/<name>: RDF URIs that survive re-harvests (see rdf.py).
    def dataset_uri(self, dataset_dict, default_uri):
        from . import rdf
        return rdf.dataset_uri(dataset_dict, default_uri)

    # IFacets: the service search page narrows by department, theme, life event…,
    # titled in the page's language from the schema.
    def dataset_facets(self, facets_dict, package_type):
        if package_type != "service":
            return facets_dict
        from . import helpers
        return helpers.service_facets()

    # IPackageController
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if pkg_dict.get("type") == "document":   # its aliases searched as words, not only whole
            pkg_dict["text"] = document_catalogue.aliases(json.loads(pkg_dict["validated_data_dict"]))
            return pkg_dict
        if pkg_dict.get("type") != "service":
            return pkg_dict
        validated = json.loads(pkg_dict["validated_data_dict"])
        add, drop = search.service_index_fields(validated)
        for key in drop:
            pkg_dict.pop(key, None)
        pkg_dict.update(add)
        performance = validated.get("performance")
        if "performance" not in validated:
            performance = statistics_publish.performance(validated)
        pkg_dict.pop("performance", None)
        pkg_dict.update(search.performance_index_fields(performance))
        pkg_dict.pop("network", None)
        pkg_dict.update(network.index_fields(validated))   # level, area, documents, flags
        centres.index_into(pkg_dict, validated)             # service_centres_ss: the centres handling it
        pkg_dict.update(search.service_search_fields(
            validated, search.managed_synonyms(), datetime.date.today().isoformat()))
        return pkg_dict

    # Service search (search.py, issue 15): a citizen's query becomes the
    # platform's edismax query; one that finds nothing is asked again, relaxed.
    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return search.service_search_params(search_params)

    def after_dataset_search(self, search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
        from . import search_analytics
        results = search.relax_when_nothing_found(search_results, search_params)
        if not (search_params.get("extras") or {}).get("ext_govservice_relaxed"):
            search_analytics.record_search(search_params, results)   # the page's searches, per day
        return results

    # The latest 12 months' performance travels with the service: in
    # package_show, in search results (through the index) and on its page.
    def after_dataset_show(self, context, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if pkg_dict.get("type") == "service":
            pkg_dict["performance"] = statistics_publish.performance(pkg_dict)
            pkg_dict["network"] = network.of(pkg_dict)    # its basic item, documents, flags
            pkg_dict["service_centres"] = centres.of(pkg_dict)   # derived from the centres' counters
        return pkg_dict

    # Regenerate the bulk catalogue files in the background when a service changes.
    # The catalogue datasets themselves are type "dataset", so rebuilding them
    # never schedules another rebuild.
    # A basic item or document saved: the network's cached catalogues are read
    # again, and a withdrawn item's implementations reindexed (network.py).
    # A harvest's bulk load (govharvest/bulk.py) says so in its context and queues
    # each department's rebuild once, when its load ends: not one per service;
    # the dataset is one of its batch's, shown once for activity and index (bulk_load.py).
    def after_dataset_create(self, context, pkg_dict: dict[str, Any]) -> None:
        bulk_load.written(context, pkg_dict.get("id"))
        if not context.get(BULK_LOAD):
            self._service_changed(pkg_dict.get("type"), pkg_dict.get("owner_org"))
        network.catalogue_changed(context, pkg_dict.get("type"))

    def after_dataset_update(self, context, pkg_dict: dict[str, Any]) -> None:
        bulk_load.written(context, pkg_dict.get("id"), updated=True)
        if not context.get(BULK_LOAD):
            self._service_changed(pkg_dict.get("type"), pkg_dict.get("owner_org"))
        network.catalogue_changed(context, pkg_dict.get("type"))

    def after_dataset_delete(self, context, pkg_dict: dict[str, Any]) -> None:
        pkg = model.Package.get(pkg_dict.get("id"))
        if pkg is not None:
            self._service_changed(pkg.type, pkg.owner_org)
            network.catalogue_changed(context, pkg.type)
        centres.deleted(pkg_dict.get("id"))     # a centre's services: reindexed after the commit

    # IOrganizationController (and IPackageController, whose hook has the same
    # name): a department's new level or area reaches its services' index.
    def edit(self, entity) -> None:
        if isinstance(entity, model.Group) and entity.is_organization:
            network.department_changed(entity.id, entity.extras)

    def _service_changed(self, dataset_type: str | None, owner_org: str | None) -> None:
        if dataset_type == "service" and owner_org:
            catalogue_publish.rebuild_after_commit(owner_org)
            subscriptions.queue_after_commit()   # the feeds' cache, the webhooks' fan-out

    # IXloader: the catalogue files are downloads, not DataStore tables (their
    # cells hold JSON lists), and they are rewritten on every rebuild.
    def can_upload(self, resource_id: str) -> bool:
        resource = model.Resource.get(resource_id)
        return not (resource is not None and resource.extras.get(catalogue_publish.FILE_KEY))
