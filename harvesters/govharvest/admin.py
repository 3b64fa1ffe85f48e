"""The harvest admin app: sources, jobs, reports and "run now", as JSON and HTML.

Every endpoint needs a CKAN API token (``Authorization: <token>``, or signed in
once through the form at /login). CKAN says who the token belongs to: sysadmins
see every source; a department's editors and admins see and run only their own
department's sources.

Signing in keeps the token on the server (Redis, under a hash of a random
session id, expiring after settings.admin_session_seconds()); the browser holds
only the id, in a Secure, HttpOnly, SameSite=Strict cookie with the same
lifetime. Logout deletes the server's copy. A request signed in by the cookie
that changes anything (POST) must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); the sign-in form carries one of its
own. A call with its own ``Authorization`` header needs none: no browser sends
that by itself.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass

import ckanapi
from flask import Flask, abort, g, jsonify, redirect, render_template, request, session, url_for

from . import db, extract, pipeline, queue, settings, sources


SESSION_COOKIE = "govharvest_session"
SESSION_KEY = "govharvest:admin-session:"   # + sha256 of the id: Redis holds no usable cookie


# ------------------------------------------------------------------ sessions

def _session_key(session_id: str) -> str:
    return SESSION_KEY + hashlib.sha256(session_id.encode()).hexdigest()


def open_session(token: str) -> str:
    """Keep a signed-in token on the server; return the random id the browser holds."""
    session_id = secrets.token_urlsafe(32)
    queue.redis_connection().set(_session_key(session_id),
                                 json.dumps({"token": token, "csrf": secrets.token_urlsafe(32)}),
                                 ex=settings.admin_session_seconds())
    return session_id


def signed_in(session_id: str | None) -> dict | None:
    """The session's ``token`` and ``csrf`` token; None if unknown or expired."""
    if not session_id:
        return None
    found = queue.redis_connection().get(_session_key(session_id))
    return json.loads(found) if found else None


def close_session(session_id: str | None) -> None:
    if session_id:
        queue.redis_connection().delete(_session_key(session_id))


def _csrf_matches(expected: str | None) -> bool:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and secrets.compare_digest(sent, expected)


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
    # Flask's own (signed) cookie holds only the sign-in form's CSRF token
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=True,
                      SESSION_COOKIE_SAMESITE="Strict")
    ckan_url = ckan_url or settings.ckan_url()
    if not ckan_url:
        raise KeyError("GOVHARVEST_CKAN_URL")

    def authenticated(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            token = request.headers.get("Authorization")
            g.session = None
            if not token:
                g.session = signed_in(request.cookies.get(SESSION_COOKIE))
                token = g.session and g.session["token"]
                if g.session and request.method != "GET" and not _csrf_matches(g.session["csrf"]):
                    abort(403, "this form's CSRF token is missing or wrong: reload the page and "
                               "send it again")
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

    @app.context_processor
    def csrf_token():
        current = getattr(g, "session", None)
        return {"csrf_token": current["csrf"] if current else session.get("login_csrf")}

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            if not _csrf_matches(session.pop("login_csrf", None)):   # a form posted from elsewhere
                abort(403, "the sign-in form's CSRF token is missing or wrong: open /login again")
            token = request.form.get("token", "").strip()
            if identify(ckan_url, token):
                response = redirect(url_for("home"))
                response.set_cookie(SESSION_COOKIE, open_session(token), secure=True, httponly=True,
                                    samesite="Strict", max_age=settings.admin_session_seconds())
                return response
            session["login_csrf"] = secrets.token_urlsafe(32)
            return render_template("login.html", error="CKAN did not accept that token"), 401
        session["login_csrf"] = secrets.token_urlsafe(32)
        return render_template("login.html", error=None)

    @app.post("/logout")
    @authenticated
    def logout():
        close_session(request.cookies.get(SESSION_COOKIE))
        response = redirect(url_for("login"))
        response.delete_cookie(SESSION_COOKIE, secure=True, httponly=True, samesite="Strict")
        return response

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
                source = sources.add(conn, name=name, department=department, local=True,   # our own spool
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
        return render_template("home.html", sources=[_public(s) for s in rows], caller=g.caller)

    return app


def _public(source: dict) -> dict:
    """A source as shown to people: the credentials reference is a name, never a secret,
    and even the name stays out of the API; the location without its query string
    or user (a source registered before credentials there were refused may have one)."""
    shown = {k: v for k, v in source.items() if k != "credentials_ref"}
    if shown.get("location"):
        shown["location"] = extract.shown(shown["location"])
    return shown
