"""The ``govharvest`` command.

Settings come from the environment (GOVHARVEST_DB_URL, GOVHARVEST_CKAN_URL,
GOVHARVEST_CKAN_TOKEN or GOVHARVEST_CKAN_TOKEN_FILE); GOVHARVEST_ENV_FILE may
name a file of KEY=value lines to read them from, and by default the checkout's
var/harvest.env (which the local stack writes) is read. settings.py reads and
lists them all. A setting missing, or a service that does not answer, ends the
command with one line naming the fix, not a traceback.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from . import __version__, bulk, db, extract, pipeline, settings, sources


def _echo_json(value) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


class _Commands(click.Group):
    """The command group; a service that does not answer becomes one line naming the fix."""

    def invoke(self, ctx):
        import redis
        import requests
        try:
            return super().invoke(ctx)
        except redis.exceptions.ConnectionError as e:
            raise click.ClickException(f"the job queue's Redis ({settings.redis_url()}) cannot be reached "
                                       f"({e}): start the stack with `make up`, or check GOVHARVEST_REDIS_URL")
        except requests.exceptions.ConnectionError as e:
            where = e.request.url if e.request is not None else "the server"
            raise click.ClickException(f"{where} cannot be reached: start the stack with `make up` "
                                       "(or `make demo` for the admin app), or check its address")


@click.group(cls=_Commands)
@click.version_option(__version__, prog_name="govharvest")
def main():
    """Harvest department service catalogues and statistics into CKAN."""
    settings.load_env_file()


@main.group("db")
def db_group():
    """The harvest database."""


@db_group.command("upgrade")
def db_upgrade():
    """Apply the migrations not applied yet."""
    applied = db.upgrade()
    click.echo("applied: " + ", ".join(applied) if applied else "harvest database is up to date")


@main.group("source")
def source_group():
    """Harvest sources: one per department feed."""


def _field_values(options: tuple[str, ...]) -> dict[str, str]:
    """--default FIELD=VALUE options as a dict."""
    pairs = [d.partition("=") for d in options]
    if any(not sep or not key for key, sep, _ in pairs):
        raise click.UsageError("--default takes FIELD=VALUE")
    return {key.strip(): value.strip() for key, _, value in pairs}


@source_group.command("add")
@click.argument("name")
@click.option("--department", required=True, help="CKAN organisation name")
@click.option("--format", "format_", required=True,
              help="csv, xlsx, json, cpsv, open311 or ckan (see harvesters/README.md)")
@click.option("--location", required=True, help="http(s) URL or local path")
@click.option("--kind", default="services", show_default=True,
              help="services, basic_items (基本目录), documents (材料目录), service_centres (办事大厅), "
                   "statistics or queues (a centre's live queue)")
@click.option("--schedule", default=None, help="cron expression, e.g. '0 2 * * *'")
@click.option("--withdraw-threshold", default=0.2, show_default=True, type=float)
@click.option("--credentials-ref", default=None,
              help="where the source's secret is: env:NAME or file:/path (basic: prefix for "
                   "user:password); never the secret itself")
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE",
              help="a value for a field the source does not carry (repeatable)")
@click.option("--local", is_flag=True, default=False,
              help="let this source read a file on this machine or reach a private address "
                   "(no other source may)")
def source_add(name, department, format_, location, kind, schedule, withdraw_threshold,
               credentials_ref, defaults, local):
    """Register (or redefine) a source."""
    with db.connect() as conn:
        try:
            row = sources.add(conn, name=name, department=department, format=format_, local=local,
                              location=location, kind=kind, schedule=schedule,
                              withdraw_threshold=withdraw_threshold, credentials_ref=credentials_ref,
                              defaults=_field_values(defaults))
        except sources.SourceError as e:
            raise click.UsageError(str(e))
    click.echo(f"source {row['name']} ({row['format']} from {row['location']}) for {row['department']}")


@source_group.command("update")
@click.argument("name")
@click.option("--format", "format_", default=None, help="a new format")
@click.option("--location", default=None, help="a new URL or path (the next run fetches it afresh)")
@click.option("--schedule", default=None, help="a new cron expression")
@click.option("--no-schedule", is_flag=True, help="run only when asked, not on a schedule")
@click.option("--withdraw-threshold", default=None, type=float)
@click.option("--credentials-ref", default=None, help="env:NAME or file:/path; never the secret")
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE",
              help="replace the source's defaults with these (repeatable)")
@click.option("--local/--not-local", default=None,
              help="whether the source may read a file on this machine or reach a private address")
def source_update(name, format_, location, schedule, no_schedule, withdraw_threshold,
                  credentials_ref, defaults, local):
    """Change some settings of a source, keeping the others."""
    changes = {key: value for key, value in (
        ("format", format_), ("location", location), ("schedule", schedule),
        ("withdraw_threshold", withdraw_threshold), ("credentials_ref", credentials_ref),
        ("local", local))
        if value is not None}
    if no_schedule:
        changes["schedule"] = None
    if defaults:
        changes["defaults"] = _field_values(defaults)
    if not changes:
        raise click.UsageError("say what to change: --location, --format, --schedule, ...")
    with db.connect() as conn:
        try:
            row = sources.update(conn, name, **changes)
        except sources.SourceError as e:
            raise click.UsageError(str(e))
    click.echo(f"source {row['name']} ({row['format']} from {row['location']}) for {row['department']}")


@source_group.command("enable")
@click.argument("name")
def source_enable(name):
    """Turn a disabled source back on, as it was."""
    with db.connect() as conn:
        try:
            sources.update(conn, name, enabled=True)
        except sources.SourceError as e:
            raise click.ClickException(str(e))
    click.echo(f"source {name} enabled")


@source_group.command("list")
def source_list():
    with db.connect() as conn:
        for s in sources.all_sources(conn):
            state = "" if s["enabled"] else "  (disabled)"
            click.echo(f"{s['name']:<28} {s['department']:<28} {s['format']:<5} {extract.shown(s['location'])}{state}")


@source_group.command("show")
@click.argument("name")
def source_show(name):
    with db.connect() as conn:
        try:
            _echo_json(sources.get(conn, name))
        except sources.SourceError as e:
            raise click.ClickException(str(e))


@source_group.command("disable")
@click.argument("name")
def source_disable(name):
    with db.connect() as conn:
        try:
            sources.disable(conn, name)
        except sources.SourceError as e:
            raise click.ClickException(str(e))
    click.echo(f"source {name} disabled")


@main.command("run")
@click.argument("name")
@click.option("--now", "in_process", is_flag=True,
              help="run in this process and print the report (default: queue it for a worker)")
@click.option("--dry-run", is_flag=True,
              help="with --now: read and compare only, report what would change, touch nothing in CKAN")
def run(name, in_process, dry_run):
    """Harvest one source: queued for the workers, or --now in this process."""
    from . import queue
    with db.connect() as conn:
        pipeline.fail_overdue_jobs(conn)
        try:
            source = sources.get(conn, name)
        except sources.SourceError as e:
            raise click.ClickException(str(e))
        if dry_run and not in_process:
            raise click.UsageError("--dry-run needs --now")
        if not in_process:
            click.echo(f"queued harvest job {queue.enqueue(conn, source)} for {name}")
            return
        job_id = pipeline.start_job(conn, source)
    pipeline.run_job(db.connect, job_id, bulk.configured_ckan(), dry_run=dry_run)
    with db.connect() as conn:
        result = pipeline.report(conn, job_id)
    if result["status"] in ("queued", "running"):
        raise click.ClickException(f"harvest job {job_id} of {name} is already being run by "
                                   "another process (a worker?); not started a second time")
    _echo_json(result)
    if result["status"] == "failed":
        raise SystemExit(1)


@main.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst):
    """Run queued harvest jobs (start several for more throughput)."""
    from . import queue
    queue.run_worker(burst=burst)


@main.command("scheduler")
@click.option("--once", is_flag=True, help="one tick: fail overdue jobs, queue due sources")
@click.option("--interval", default=30.0, show_default=True, help="seconds between ticks")
def scheduler(once, interval):
    """Queue sources whose cron schedule is due; mark dead jobs failed."""
    from . import queue
    if once:
        click.echo(f"queued jobs: {queue.schedule_once()}")
    else:
        queue.run_scheduler(interval)


@main.command("confirm-withdrawals")
@click.argument("job_id", type=int)
def confirm_withdrawals(job_id):
    """Withdraw the records a job held back for confirmation."""
    try:
        n = pipeline.confirm_withdrawals(db.connect, job_id, bulk.configured_ckan())
    except (LookupError, ValueError) as e:
        raise click.ClickException(str(e))
    click.echo(f"withdrew {n} services held by job {job_id}")


@main.command("push")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--department", required=True, help="CKAN organisation name")
@click.option("--admin-url", envvar=settings.PUSH_ADMIN_URL, required=True,
              help="the harvest admin app, e.g. https://data.example.gov.cn/harvest")
@click.option("--token-file", envvar=settings.PUSH_TOKEN_FILE, default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a file holding your CKAN API token (or set GOVHARVEST_PUSH_TOKEN_FILE, or the "
                   "token itself in GOVHARVEST_PUSH_TOKEN); without either you are asked for it")
def push(file, department, admin_url, token_file):
    """Publish a CSV, XLSX or JSON file of your department's services.

    The token is never a command-line option: anyone on the machine sees those in ``ps``."""
    import requests
    if token_file:
        token = token_file.read_text(encoding="utf-8").strip()
    else:
        token = settings.push_token() or click.prompt("CKAN API token", hide_input=True)
    with open(file, "rb") as f:
        r = requests.post(f"{admin_url.rstrip('/')}/api/push/{department}",
                          headers={"Authorization": token},
                          files={"file": (Path(file).name, f)}, timeout=3600)
    if r.status_code != 200:
        raise click.ClickException(f"the platform refused the file: HTTP {r.status_code} "
                                   f"{r.json().get('error', r.text) if r.headers.get('content-type', '').startswith('application/json') else r.text[:200]}")
    _echo_json(r.json())


@main.command("admin")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True)
def admin(host, port):
    """Serve the harvest admin app (sources, jobs, reports, run now, push)."""
    from .admin import create_app
    create_app().run(host=host, port=port, threaded=True)


@main.command("jobs")
@click.option("--source", default=None)
def jobs(source):
    """Recent jobs, newest first."""
    with db.connect() as conn:
        for j in db.recent_jobs(conn, source=source, limit=50):
            click.echo(f"{j['id']:>6} {j['source']:<28} {j['status']:<8} {json.dumps(j['counts'])} "
                       f"{j['error'] or ''}")


@main.command("report")
@click.argument("job_id", type=int)
def report(job_id):
    """A job's report as JSON: counts, field-by-field changes, rejections."""
    with db.connect() as conn:
        try:
            _echo_json(pipeline.report(conn, job_id))
        except LookupError as e:
            raise click.ClickException(str(e))
