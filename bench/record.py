"""What a bench prints as its summary is also kept in bench/results/NAME.md, the
file `make figures` (tools/figures) copies into bench/README.md and README.md, so
the figures quoted there are the bench's own output, never typed by hand.

    parser = argparse.ArgumentParser(); record.add_arguments(parser)
    args = parser.parse_args()
    load_before = record.load_average()          # before the bench's first measurement
    ...
    with record.summary("harvest", load_before=load_before, note=args.machine_note) as kept:
        print("| measure | value | target |")
        ...
        kept.value("ratio", f"{ratio:.2f}×")    # a figure the README quotes in a sentence

The kept file starts with a line a reader of the rendered page does not see:
the command line, the date, the commit and the machine. When the bench gives
``load_before``, the summary ends with a line the reader does see: the
machine's CPUs and memory, the load average before and after, and what else
was running on it (``--machine-note``), since a figure means little without the
state of the machine it was measured on.

A figure quoted inside a sentence elsewhere (README.md) is a named value:
``kept.value("ratio", "2.78×")`` writes ``<!-- value ratio: 2.78× -->`` into
the kept file, and `make figures` puts it between
``<!-- figure:bench/NAME#ratio -->`` markers.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The option every recording bench takes: what else the machine was doing."""
    parser.add_argument("--machine-note", default="",
                        help="what else ran on the machine meanwhile (printed with the load average), "
                             "e.g. 'shared with four other engineers' test runs'")


def load_average() -> float:
    """The 1-minute load average: how many processes wanted a CPU lately."""
    return os.getloadavg()[0]


def commit() -> str:
    """The checkout's commit (short), and whether tracked files had uncommitted changes."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], check=False, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> str:
    """CPUs and memory of the machine, e.g. '2 CPUs, 23 GiB'."""
    memory = ""
    with contextlib.suppress(OSError, ValueError):
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f", {kib / 2**20:.0f} GiB"
    return f"{os.cpu_count()} CPUs{memory}"


def stamp(when: dt.datetime) -> str:
    """The kept file's first line: command line, date, commit, machine (not rendered)."""
    command = shlex.join([os.path.relpath(sys.argv[0], ROOT) if sys.argv[0] else "python", *sys.argv[1:]])
    return (f"<!-- {command} · {when:%Y-%m-%d %H:%M} UTC · commit {commit()} · "
            f"{platform.node() or 'this machine'}: {machine()}, Python {platform.python_version()} -->")


def conditions(load_before: float, load_after: float, note: str = "") -> str:
    """The summary's last, visible line: the state of the machine during the run."""
    return (f"Machine: {machine()}; load average {load_before:.1f} before, {load_after:.1f} after"
            + (f"; {note.strip()}" if note.strip() else "") + ".")


VALUE = re.compile(r"^<!-- value (?P<key>[\w-]+): (?P<text>.*) -->$", re.MULTILINE)


class Kept:
    """What a summary keeps besides its printed text: named values (see the module's doc)."""

    def __init__(self):
        self.values: dict[str, str] = {}

    def value(self, key: str, text: str) -> None:
        if not re.fullmatch(r"[\w-]+", key) or "-->" in text or "\n" in text:
            raise ValueError(f"a kept value needs a key of letters, digits, _ or - and one line of text: {key!r}")
        self.values[key] = text


def save(name: str, text: str, values: dict[str, str] | None = None) -> Path:
    """bench/results/NAME.md: the summary, under a line saying when and where it ran
    (and the named values, one comment line each)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    head = [stamp(dt.datetime.now(dt.UTC))] + [f"<!-- value {k}: {v} -->" for k, v in (values or {}).items()]
    path.write_text("\n".join(head) + "\n" + text.strip("\n") + "\n", encoding="utf-8")
    return path


def values(text: str) -> dict[str, str]:
    """The named values in a kept file's text."""
    return {match["key"]: match["text"] for match in VALUE.finditer(text)}


@contextlib.contextmanager
def summary(name: str, load_before: float | None = None, note: str = ""):
    """Print as usual, and keep what was printed in bench/results/NAME.md; with
    ``load_before``, end with the machine's state (see ``conditions``). Yields a
    ``Kept`` for named values."""
    kept, printed = Kept(), io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, printed)):
        yield kept
        if load_before is not None:
            if not printed.getvalue().endswith("\n\n"):
                print()   # a line right under a table would be read as one more row
            print(conditions(load_before, load_average(), note))
    print(f"(kept in {os.path.relpath(save(name, printed.getvalue(), kept.values), ROOT)})")
