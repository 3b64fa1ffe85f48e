"""``ckan govservice …`` commands run by the stack scripts and by operators."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import api_token

from .publishing import site_context

__all__ = ["govservice"]


@click.group(short_help="GovService platform commands.")
def govservice():
    """GovService platform commands."""


def _token_is_live(token: str) -> bool:
    """True when the token decodes with this site's secret and is still on record."""
    try:
        data = api_token.decode(token)
    except Exception:
        return False
    return bool(data.get("jti")) and model.ApiToken.get(data["jti"]) is not None


@govservice.command("init-site")
@click.option("--sysadmin", "name", default=None,
              help="Sysadmin user name (default: ckanext.govservice.sysadmin_name).")
@click.option("--email", default="admin@govservice.localhost", show_default=True)
@click.option("--password-env", default="GOVSERVICE_ADMIN_PASSWORD", show_default=True,
              help="Environment variable holding the sysadmin's password.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where the local tools' API token is kept (created 0600).")
def init_site(name: str | None, email: str, password_env: str, token_file: Path):
    """Make sure the sysadmin and the local tools' API token exist.

    Safe to run any number of times: an existing user gets its password and
    sysadmin flag put back; a token file whose token is no longer valid (for
    example after the database was reset) is replaced.
    """
    name = name or tk.config.get("ckanext.govservice.sysadmin_name")
    password = os.environ.get(password_env)
    if not password:
        raise click.UsageError(f"set {password_env} to the sysadmin's password")
    context = site_context()
    user = model.User.get(name)
    if user is None:
        tk.get_action("user_create")(context, {"name": name, "email": email, "password": password})
        user = model.User.get(name)
        click.echo(f"created sysadmin {name}")
    elif not user.validate_password(password):
        user.password = password  # the secrets file is the source of truth
    if not user.sysadmin or user.state != model.State.ACTIVE:
        user.sysadmin = True
        user.state = model.State.ACTIVE
    model.repo.commit()

    if token_file.exists() and _token_is_live(token_file.read_text().strip()):
        click.echo(f"API token for {name} in {token_file} is valid")
        return
    token = tk.get_action("api_token_create")(
        context, {"user": name, "name": "local-tools"})["token"]
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    click.echo(f"wrote a new API token for {name} to {token_file}")


@govservice.command("health")
def health_command():
    """Print `govservice_health` as JSON; exit 1 unless every service is up."""
    result = tk.get_action("govservice_health")({"ignore_auth": True}, {})
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    if result["status"] != "ok":
        raise SystemExit(1)



@govservice.command("catalogue-build")
@click.option("--department", default=None,
              help="Rebuild only this department's files (name or id) and the platform's.")
def catalogue_build(department: str | None):
    """Rebuild the bulk catalogue files now, in this process (no job queue)."""
    from . import catalogue_publish

    for result in catalogue_publish.build(department):
        click.echo(f"{result['dataset']}: {result['count']} services "
                   f"({', '.join(sorted(result['resources']))})")


@govservice.command("statistics-refresh")
def statistics_refresh():
    """Re-sync every department's services into the KPI engine and rebuild all
    KPI sums and service summaries from the published rows (after a restore,
    after rows were changed in SQL, or when departments or services changed
    without a statistics load since)."""
    from . import statistics_publish
    click.echo(json.dumps(statistics_publish.refresh_all(), ensure_ascii=False, indent=2))


@govservice.command("alerts")
def alerts_command():
    """Find what has gone wrong in each department (targets missed, stale or failing
    sources, low coverage, broken links) and e-mail the new or changed alerts to its
    admins and the data office; an unchanged one is not sent again. Run it from
    cron (daily, say) beside the harvest scheduler."""
    from . import alerts
    click.echo(json.dumps(alerts.run(), ensure_ascii=False, indent=2))


@govservice.command("standards-publish")
def standards_publish_command():
    """Rewrite the open dataset service-standards (one row per service × standard × month)."""
    from . import standards
    click.echo(json.dumps(standards.publish(), ensure_ascii=False, indent=2))


@govservice.command("links-check")
@click.option("--department", default=None, help="one department (default: every one, as background jobs)")
def links_check_command(department: str | None):
    """Check the channel and legal-basis addresses of the services (HEAD then GET,
    under the harvest sources' address rules, at a bounded rate); broken ones are
    shown per department and alerted."""
    from . import data_quality
    if department:
        click.echo(json.dumps(data_quality.check_links(department), ensure_ascii=False, indent=2))
    else:
        click.echo(f"queued the link checks of {data_quality.enqueue_link_checks()} departments")


@govservice.command("scheduler")
def scheduler_command():
    """Run the platform's periodic tasks when their cron expressions in ckan.ini
    (ckanext.govservice.schedule.*) come due: alerts, link checks, the standards
    dataset, the documents snapshot. Runs until stopped; several may run (each
    due task runs once)."""
    from . import schedule
    schedule.forever()


@govservice.command("network-migrate")
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
def network_migrate_command(dry_run: bool):
    """Bring the services published before issue 16 into the network: an old
    local_code becomes the implementation_code, and a service without a basic
    code is linked to the one basic item titled exactly as it is (counts of
    linked, ambiguous and unlinked printed). Changes nothing else; safe to run
    again."""
    from . import network
    report = network.migrate(dry_run=dry_run, echo=click.echo)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


@govservice.command("network-reconcile")
def network_reconcile_command():
    """Reindex the services whose documents the document catalogue now matches
    differently from what the search index says (run by the job queue after a
    document changes; by hand after a catalogue load with the queue off)."""
    from . import network
    click.echo(json.dumps(network.reconcile_index(), ensure_ascii=False, indent=2))


@govservice.command("search-index-rebuild")
@click.option("--type", "dataset_type", default=None, help="Only datasets of this type (e.g. service).")
@click.option("--batch", default=250, show_default=True, help="Datasets sent to Solr in one request.")
@click.option("--workers", default=1, show_default=True, help="Processes sharing the datasets.")
@click.option("--part", default=None, hidden=True, help="k/n: this worker's share (every n-th id from k).")
@click.option("--no-commit", is_flag=True, hidden=True, help="Leave the commit to the caller.")
def search_index_rebuild_command(dataset_type: str | None, batch: int, workers: int, part: str | None,
                                 no_commit: bool):
    """Rebuild the search index as `ckan search-index rebuild` does (the same
    documents, made by CKAN's indexer), but in batches: one Solr request per
    batch and one commit at the end, optionally in several worker processes.
    Prints {"indexed", "failed", "seconds"}."""
    from . import search_rebuild
    if workers > 1:
        report = search_rebuild.rebuild_in_workers(tk.config["__file__"], workers, dataset_type, batch,
                                                   echo=lambda line: click.echo(line, err=True))
    else:
        ids = search_rebuild.dataset_ids(dataset_type)
        if part:
            k, n = (int(x) for x in part.split("/"))
            ids = ids[k::n]
        report = search_rebuild.rebuild(ids, batch=batch, commit=not no_commit,
                                        echo=lambda line: click.echo(line, err=True))
    click.echo(json.dumps(report))


@govservice.command("reserved-names")
def reserved_names_command():
    """List the datasets that hold one of the platform's names (service-catalogue,
    service-statistics, <department>-service-…) without being the platform's own:
    taken before the names were reserved, they get nothing published into them
    until a sysadmin renames or deletes them. Exits 1 when there is any."""
    from .publishing import squatted_datasets
    found = squatted_datasets()
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    if found:
        raise SystemExit(1)


@govservice.command("document-snapshot")
@click.option("--day", default=None, help="the day to record (YYYY-MM-DD; default today)")
def document_snapshot_command(day: str | None):
    """Record each department's documents a citizen must still bring (live
    services, mandatory documents demanded, those still to bring), for the trend
    of the document reduction rate 材料减免率. Run it daily from cron; a second
    run on the same day replaces that day's figures."""
    import datetime
    from . import document_catalogue
    when = datetime.date.fromisoformat(day) if day else None
    click.echo(json.dumps(document_catalogue.snapshot(when), ensure_ascii=False, indent=2))
