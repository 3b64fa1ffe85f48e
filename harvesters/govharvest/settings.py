"""The harvesters' settings: the one module that reads the process environment.

Each setting is read when it is asked for, so a changed environment (a test's,
or one loaded from GOVHARVEST_ENV_FILE) is seen at once.

| variable | default | what |
| --- | --- | --- |
| GOVHARVEST_ENV_FILE | the checkout's var/harvest.env, when there is one | a file of KEY=value lines read into the environment first (the local stack writes var/harvest.env; GOVSERVICE_VAR moves var/); the environment wins; set it empty to read no file |
| GOVHARVEST_DB_URL | required | the harvest database |
| GOVHARVEST_CKAN_URL | required | the portal the harvest writes into and the admin app asks who callers are |
| GOVHARVEST_CKAN_TOKEN or GOVHARVEST_CKAN_TOKEN_FILE | required | the harvest's CKAN API token, or a file holding it |
| GOVHARVEST_REDIS_URL | redis://127.0.0.1:6379/10 | the job queue |
| GOVHARVEST_LOAD_WORKERS | 2 | CKAN writes a harvest keeps in flight over HTTP |
| GOVHARVEST_CKAN_INI | none | CKAN's config file: the harvest loads CKAN in its own process and writes through its actions in batches (bulk.py), instead of over HTTP, as the owner of GOVHARVEST_CKAN_TOKEN (the user an HTTP harvest writes as; CKAN's site user when no token is set); the portal's URL is then needed only by the admin app and `push` |
| GOVHARVEST_LOAD_BATCH | 50 | records written and committed together on that in-process path |
| GOVHARVEST_ALLOW_PRIVATE_HOSTS | none | comma-separated hosts allowed despite a private or loopback address |
| GOVHARVEST_MAX_FEED_BYTES | 209715200 (200 MiB) | the most a fetch may write to disk, counted after decompression |
| GOVHARVEST_FETCH_DEADLINE | 300 | seconds a fetch may take in all, redirects and every read included |
| GOVHARVEST_ADMIN_SECRET | random per start | the admin app's session key |
| GOVHARVEST_ADMIN_SESSION_SECONDS | 28800 (8 h) | how long an admin app sign-in lasts (the server's copy and the cookie); the copy is kept in GOVHARVEST_REDIS_URL |
| GOVHARVEST_PUSH_DIR | /tmp/govharvest-push | where pushed files are kept, a folder per department |
| GOVHARVEST_ADMIN_URL, GOVHARVEST_PUSH_TOKEN_FILE | none (the local stack's harvest.env names its admin app) | `govharvest push` options (click reads them, by the names below) |
| GOVHARVEST_PUSH_TOKEN | none | `govharvest push`'s token when no token file is given; without either it asks for it (never a command-line option: `ps` shows those) |
| FEEDSERVER_FAULTS | 0 | the reference feed server injects faults on request |

A source's ``credentials_ref`` may name an environment variable of the
workers (``env:NAME``); that secret is read here too, by ``secret``.
"""
from __future__ import annotations

import os
from pathlib import Path

import click

from . import __version__

# the options of `govharvest push`, which click reads from the environment itself
PUSH_ADMIN_URL = "GOVHARVEST_ADMIN_URL"
PUSH_TOKEN = "GOVHARVEST_PUSH_TOKEN"
PUSH_TOKEN_FILE = "GOVHARVEST_PUSH_TOKEN_FILE"

# The checkout this package was installed from (pip install -e), if it is one:
# its stack writes the settings file the commands read by default.
CHECKOUT = Path(__file__).resolve().parents[2]
HOW_TO_CONFIGURE = "run `make up` in the checkout (it writes var/harvest.env)"


class NotConfigured(click.ClickException):
    """A setting the harvesters need is missing or unusable; the message names the fix.
    The command line prints it as one line, without a traceback."""


def default_env_file() -> Path | None:
    """The checkout's var/harvest.env (or $GOVSERVICE_VAR/harvest.env), when this
    package runs from a checkout whose stack has written it."""
    if not (CHECKOUT / "stack" / "stack.sh").is_file():
        return None
    path = Path(os.environ.get("GOVSERVICE_VAR") or CHECKOUT / "var") / "harvest.env"
    return path if path.is_file() else None


def load_env_file() -> None:
    """Read GOVHARVEST_ENV_FILE's KEY=value lines (by default the checkout's
    var/harvest.env) into the environment, never overriding a variable that is
    set already. GOVHARVEST_ENV_FILE set empty reads no file."""
    name = os.environ.get("GOVHARVEST_ENV_FILE")
    if name == "":
        return
    path = Path(name) if name is not None else default_env_file()
    if path is None:
        return
    if not path.is_file():
        raise NotConfigured(f"GOVHARVEST_ENV_FILE names {path}, which does not exist: "
                            f"{HOW_TO_CONFIGURE}, or point GOVHARVEST_ENV_FILE at the settings file")
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            os.environ.setdefault(key.strip(), value.strip())


def database_url() -> str:
    url = os.environ.get("GOVHARVEST_DB_URL")
    if not url:
        raise NotConfigured(f"the harvest database is not set: {HOW_TO_CONFIGURE}, or set GOVHARVEST_DB_URL "
                            "(e.g. postgresql://user:password@127.0.0.1:5432/govharvest)")
    return url


def ckan_url() -> str | None:
    return os.environ.get("GOVHARVEST_CKAN_URL")


def ckan_token() -> str | None:
    """The harvest's CKAN API token (GOVHARVEST_CKAN_TOKEN, or the file
    GOVHARVEST_CKAN_TOKEN_FILE names), or None when neither is set."""
    token = os.environ.get("GOVHARVEST_CKAN_TOKEN")
    token_file = os.environ.get("GOVHARVEST_CKAN_TOKEN_FILE")
    if not token and token_file:
        if not Path(token_file).is_file():
            raise NotConfigured(f"the CKAN API token file {token_file} (GOVHARVEST_CKAN_TOKEN_FILE) does not "
                                f"exist: {HOW_TO_CONFIGURE}, or set GOVHARVEST_CKAN_TOKEN")
        token = Path(token_file).read_text().strip()
    return token or None


def ckan():
    """The CKAN the harvest writes into (a ckanapi.RemoteCKAN), with the harvest's own token."""
    import ckanapi     # here, not above: the readers and the feed server ask for settings too
    url = ckan_url()
    token = ckan_token()
    if not url or not token:
        raise NotConfigured(f"the portal to harvest into is not set: {HOW_TO_CONFIGURE}, or set "
                            "GOVHARVEST_CKAN_URL and GOVHARVEST_CKAN_TOKEN (or GOVHARVEST_CKAN_TOKEN_FILE)")
    return ckanapi.RemoteCKAN(url, apikey=token, user_agent=f"govharvest/{__version__}")


def redis_url() -> str:
    return os.environ.get("GOVHARVEST_REDIS_URL", "redis://127.0.0.1:6379/10")


def load_workers() -> int:
    """How many CKAN writes a harvest over HTTP keeps in flight (at least one)."""
    return max(1, int(os.environ.get("GOVHARVEST_LOAD_WORKERS", "2")))


def ckan_ini() -> str | None:
    """CKAN's config file, when the harvest writes in-process (bulk.py)."""
    return os.environ.get("GOVHARVEST_CKAN_INI") or None


def load_batch_size() -> int:
    """Records the in-process path writes and commits together (at least one)."""
    return max(1, int(os.environ.get("GOVHARVEST_LOAD_BATCH", "50")))


def allowed_private_hosts() -> set[str]:
    """Hosts an operator allows despite a private/loopback address (the demo feed server)."""
    return {h.strip() for h in os.environ.get("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "").split(",") if h.strip()}


def max_feed_bytes() -> int:
    """The largest body a fetch writes to disk (decompressed), in bytes."""
    return int(os.environ.get("GOVHARVEST_MAX_FEED_BYTES", str(200 << 20)))


def fetch_deadline() -> float:
    """Seconds one fetch may take in all, however slowly the server sends."""
    return float(os.environ.get("GOVHARVEST_FETCH_DEADLINE", "300"))


def admin_secret() -> str | None:
    return os.environ.get("GOVHARVEST_ADMIN_SECRET")


def admin_session_seconds() -> int:
    """How long an admin app sign-in lasts (the server's copy and the cookie)."""
    return int(os.environ.get("GOVHARVEST_ADMIN_SESSION_SECONDS", str(8 * 3600)))


def push_token() -> str | None:
    """The department's CKAN token for ``govharvest push`` from the environment, if set."""
    return os.environ.get(PUSH_TOKEN) or None


def push_dir() -> str:
    return os.environ.get("GOVHARVEST_PUSH_DIR", "/tmp/govharvest-push")


def feedserver_faults() -> bool:
    return bool(int(os.environ.get("FEEDSERVER_FAULTS", "0")))


def secret(variable: str) -> str | None:
    """The value of the environment variable a source's ``credentials_ref``
    names (``env:NAME``); None when it is not set."""
    return os.environ.get(variable)
