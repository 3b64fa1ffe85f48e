"""The harvest admin app: sources, jobs, reports and "run now", as JSON and HTML.

Every endpoint needs a CKAN API token (``Authorization: <token>``, or signed in
once through the form at /login, which keeps it in a session cookie). CKAN says
who the token belongs to: sysadmins see every source; a department's editors
and admins see and run only their own department's sources.
"""
from __future__ import annotations

import contextlib
import functools
import os
import secrets
import tempfile
from dataclasses import dataclass

import ckanapi
from flask import Flask, abort, g, jsonify, redirect, render_template, request, session, url_for

from . import db, pipeline, queue, settings, sources


# what GET /api/jobs says of each job
JOB_LIST_FIELDS = ("id", "source", "department", "status", "counts", "queued_at", "finished_at", "error")


@dataclass
class Caller:
    token: str
    departments: set[str]
    sysadmin: bool

    def may_see(self, source: dict) -> bool:
        return self.sysadmin or source["department"] in self.departments


def identify(ckan_url: str, token: str) -> Caller | None:
    """Ask CKAN who holds this token: their departments, and whether they are sysadmin."""
    ckan = ckanapi.RemoteCKAN(ckan_url, apikey=token)
    try:
        orgs = ckan.action.organization_list_for_user(permission="create_dataset")
    except (ckanapi.NotAuthorized, ckanapi.CKANAPIError):
        return None
    try:
        ckan.action.config_option_list()     # sysadmins only
        sysadmin = True
    except ckanapi.NotAuthorized:
        sysadmin = False
    if not orgs and not sysadmin:
        return None
    return Caller(token, {o["name"] for o in orgs}, sysadmin)


def create_app(ckan_url: str | None = None) -> Flask:
    app = Flask("govharvest.admin")
    app.secret_key = settings.admin_secret() or secrets.token_hex(32)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    ckan_url = ckan_url or settings.ckan_url()
    if not ckan_url:
        raise KeyError("GOVHARVEST_CKAN_URL")

    def authenticated(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            token = request.headers.get("Authorization") or session.get("token")
            caller = identify(ckan_url, token) if token else None
            if caller is None:
                if request.path.startswith("/api/"):
                    return jsonify(error="a valid CKAN API token is required "
                                         "(Authorization header)"), 401
                return redirect(url_for("login"))
            g.caller = caller
            return view(*args, **kwargs)
        return wrapper

    def visible_source(name: str) -> dict:
        with db.connect() as conn:
            try:
                source = sources.get(conn, name)
            except sources.SourceError:
                abort(404)
        if not g.caller.may_see(source):
            abort(403, f"source {name} belongs to {source['department']}, not your department")
        return source

    def job_source(job_id: int) -> dict:
        with db.connect() as conn:
            try:
                report = pipeline.report(conn, job_id)
            except LookupError:
                abort(404)
        visible_source(report["source"])
        return report

    @app.errorhandler(403)
    def forbidden(e):
        return jsonify(error=e.description), 403

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            token = request.form.get("token", "").strip()
            if identify(ckan_url, token):
                session["token"] = token
                return redirect(url_for("home"))
            return render_template("login.html", error="CKAN did not accept that token"), 401
        return render_template("login.html", error=None)

    @app.get("/api/sources")
    @authenticated
    def api_sources():
        with db.connect() as conn:
            rows = [s for s in sources.all_sources(conn) if g.caller.may_see(s)]
        return jsonify([_public(s) for s in rows])

    @app.get("/api/sources/<name>")
    @authenticated
    def api_source(name):
        return jsonify(_public(visible_source(name)))

    @app.post("/api/sources/<name>/run")
    @authenticated
    def api_run(name):
        source = visible_source(name)
        with db.connect() as conn:
            job_id = queue.enqueue(conn, source)
        return jsonify(job=job_id, source=name, status="queued"), 202

    @app.get("/api/jobs")
    @authenticated
    def api_jobs():
        with db.connect() as conn:
            jobs = [{k: j[k] for k in JOB_LIST_FIELDS}
                    for j in db.recent_jobs(conn, limit=200) if g.caller.may_see(j)]
        return jsonify(jobs)

    @app.get("/api/jobs/<int:job_id>")
    @authenticated
    def api_job(job_id):
        return jsonify(job_source(job_id))

    @app.post("/api/jobs/<int:job_id>/confirm-withdrawals")
    @authenticated
    def api_confirm(job_id):
        job_source(job_id)
        try:
            n = pipeline.confirm_withdrawals(
                db.connect, job_id, ckanapi.RemoteCKAN(ckan_url, apikey=g.caller.token))
        except ValueError as e:
            return jsonify(error=str(e)), 409
        return jsonify(job=job_id, withdrawn=n)

    @app.post("/api/push/<department>")
    @authenticated
    def api_push(department):
        """A department that can only send files pushes one; it is harvested at once,
        writing to CKAN with the pusher's own token, so CKAN's permissions apply."""
        if not (g.caller.sysadmin or department in g.caller.departments):
            abort(403, f"your token may not publish for {department}")
        upload = request.files.get("file")
        fmt = request.form.get("format") or (upload.filename.rsplit(".", 1)[-1].lower()
                                              if upload and "." in upload.filename else "")
        if upload is None or fmt not in ("csv", "xlsx", "json"):
            return jsonify(error="send the file as multipart field 'file' (.csv, .xlsx or .json)"), 400
        spool = os.path.join(settings.push_dir(), department)
        os.makedirs(spool, exist_ok=True)
        # a file of its own: a second push never overwrites the one being read
        fd, path = tempfile.mkstemp(prefix="services-", suffix=f".{fmt}", dir=spool)
        os.close(fd)
        upload.save(path)
        name = f"push-{department}"
        try:
            # one transaction: the source row is locked by the first push, so a
            # second sees its job, and is refused with the location unchanged
            with db.connect() as conn:
                before = db.source_named(conn, name)
                source = sources.add(conn, name=name, department=department,
                                     format="json-file" if fmt == "json" else fmt, location=path)
                job_id = pipeline.start_job(conn, source, join=False)
        except pipeline.JobBusy as e:
            os.unlink(path)
            return jsonify(error=f"the last file pushed for {department} is still being "
                                 f"harvested (job {e.job_id}); push again when it ends"), 409
        except BaseException:
            os.unlink(path)
            raise
        pipeline.run_job(db.connect, job_id, ckanapi.RemoteCKAN(ckan_url, apikey=g.caller.token))
        if before and os.path.dirname(before["location"]) == spool and before["location"] != path:
            with contextlib.suppress(OSError):   # the previous push's file, read by its own job
                os.unlink(before["location"])
        with db.connect() as conn:
            return jsonify(pipeline.report(conn, job_id))

    @app.get("/jobs/<int:job_id>")
    @authenticated
    def job_page(job_id):
        return render_template("report.html", report=job_source(job_id))

    @app.get("/")
    @authenticated
    def home():
        with db.connect() as conn:
            rows = [s for s in sources.all_sources(conn) if g.caller.may_see(s)]
        return render_template("home.html", sources=rows, caller=g.caller)

    return app


def _public(source: dict) -> dict:
    """A source as shown to people: the credentials reference is a name, never a secret,
    and even the name stays out of the API."""
    return {k: v for k, v in source.items() if k != "credentials_ref"}
