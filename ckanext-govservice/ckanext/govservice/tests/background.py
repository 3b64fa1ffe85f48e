"""Background-job helpers for tests: a job that leaves a mark, and a poller."""
import time

import rq

import ckan.plugins.toolkit as tk


def write_note(dataset_id: str, note: str) -> None:
    """A job: set a dataset's notes, so the test can read back that it ran."""
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    tk.get_action("package_patch")(
        {"user": site_user["name"], "ignore_auth": True}, {"id": dataset_id, "notes": note})


def wait_for_job(job: rq.job.Job, timeout: float = 60) -> str:
    """Poll a queued job until the worker has finished (or failed) it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job.get_status(refresh=True)
        if status in ("finished", "failed"):
            return status
        time.sleep(0.1)
    return job.get_status(refresh=True)
