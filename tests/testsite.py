"""The test site (the ini pytest was given) served over real HTTP, for tests
that must talk to a CKAN over the network without touching the demo portal.

``serve(ini)`` starts CKAN the way the stack does (``stack/entrypoints/govservice
web``: gunicorn on stack/wsgi.py) with a derived config in var/ that points the
site's own URL at the port it listens on and turns off what needs a job worker.
``background`` is the start/wait/stop of one helper process, the way root
conftest's ``job_worker`` fixture does it.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "stack" / "entrypoints" / "govservice"
LOG_DIR = ROOT / "var" / "log"

# No background job is needed to see a service's change: nothing listens on
# the test site's job queue (root conftest's job_worker is per test).
NO_JOBS = {
    "ckanext.govservice.catalogue.auto_rebuild": "false",
    "ckanext.govservice.statistics.background_jobs": "false",
}


@contextlib.contextmanager
def background(cmd: list[str], *, log: Path, ready: Callable[[], bool], what: str,
               env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = (),
               timeout: float = 60) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` in a session of its own, output appended to ``log``; return
    once ``ready()`` is true (fail, with the log's tail, if the process dies or
    ``timeout`` passes); on exit stop its whole process group: TERM, then KILL."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                pass_fds=pass_fds, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace").splitlines()[-25:]
                raise RuntimeError(f"{what} did not start; the end of {log}:\n" + "\n".join(tail))
            time.sleep(0.2)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _status_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/3/action/status_show", timeout=5) as response:
            return json.load(response)["success"] is True
    except (OSError, ValueError, KeyError):
        return False


def derived_ini(ini: Path, url: str, overrides: dict[str, str]) -> Path:
    """var/<ini>-site.ini: ``ini`` itself (``use = config:``) with the served
    site's own URL and ``overrides``; holds no secret of its own."""
    path = ROOT / "var" / f"{ini.stem}-site.ini"
    lines = ["# written by tests/testsite.py for the served test site; rewritten on each start",
             "[app:main]", f"use = config:{ini.resolve()}",
             f"ckan.site_url = {url}", f"ckanext.xloader.site_url = {url}"]
    lines += [f"{key} = {value}" for key, value in overrides.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def serve(ini: Path, *, workers: int = 2, overrides: dict[str, str] = NO_JOBS,
          timeout: float = 120) -> Iterator[str]:
    """Serve the CKAN site of ``ini`` on a free loopback port; yield its URL.

    The listening socket is made here and handed to gunicorn (``fd://``), so
    the port cannot be taken between choosing and binding it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        site_ini = derived_ini(Path(ini), url, overrides)
        env = {**os.environ, "CKAN_INI": str(site_ini), "GOVSERVICE_CKAN_BIND": f"fd://{sock.fileno()}",
               "GOVSERVICE_CKAN_WORKERS": str(workers), "GOVSERVICE_ACCESS_LOG": "-",
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        with background([str(ENTRYPOINT), "web"], log=LOG_DIR / f"{Path(ini).stem}-site.log",
                        ready=lambda: _status_ok(url), what=f"the test site ({site_ini.name})",
                        env=env, pass_fds=(sock.fileno(),), timeout=timeout):
            sock.close()   # gunicorn has its own copy
            yield url
