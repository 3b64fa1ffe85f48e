"""What a bench prints as its summary is also kept in bench/results/NAME.md, the
file `make figures` (tools/figures) copies into bench/README.md and README.md, so
the figures quoted there are the bench's own output, never typed by hand.

    with record.summary("harvest"):
        print("| measure | value | target |")
        ...
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import platform
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def save(name: str, text: str) -> Path:
    """bench/results/NAME.md: the summary, under a line saying when and where it ran."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = (f"<!-- {' '.join(sys.argv)} · {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC · "
             f"{platform.node() or 'this machine'}, Python {platform.python_version()} -->\n")
    path.write_text(stamp + text.strip("\n") + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def summary(name: str):
    """Print as usual, and keep what was printed in bench/results/NAME.md."""
    kept = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, kept)):
        yield
    print(f"(kept in {save(name, kept.getvalue()).relative_to(RESULTS.parent.parent)})")
