"""Drive stack/stack.sh and the running portal from tests."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "stack" / "stack.sh"
CKAN_URL = f"http://127.0.0.1:{os.environ.get('GOVSERVICE_CKAN_PORT', '5000')}"


def stack(*args: str) -> subprocess.CompletedProcess:
    """Run stack/stack.sh as an operator would; fail the test if it fails."""
    return subprocess.run(["bash", str(STACK), *args], check=True,
                          capture_output=True, text=True, timeout=300)
