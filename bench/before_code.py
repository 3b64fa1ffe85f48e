"""A folder of older code for a bench's ``--before`` contender: the harvester
package (``govharvest/``) and the CKAN extension (``ckanext/govservice/``) as
they were at a commit, with a ``sitecustomize.py`` that puts that extension
ahead of the installed one, so a process started with the folder first on
PYTHONPATH runs the older bulk path on both sides (the harvester's
``govharvest/bulk.py`` and the extension's ``bulk_load.py``, validators, hooks).

    .venv/bin/python bench/before_code.py <commit> /tmp/before    # then --before /tmp/before

(``bench/province_bench.py --before`` and ``bench/bulk_profile.py --before`` take it.)
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SITECUSTOMIZE = '''# A bench's "before" code (bench/before_code.py): this folder's ckanext.govservice
# ahead of the installed one. The ckanext namespace is set up by .pth files before this runs.
import os
import ckanext
ckanext.__path__.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ckanext"))
'''


def extract(commit: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path, strip in (("harvesters/govharvest", 1), ("ckanext-govservice/ckanext/govservice", 1)):
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, path], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", f"--strip-components={strip}", "-C", str(folder)], input=archive, check=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    extract(args.commit, args.folder)
    print(f"{args.folder}: govharvest and ckanext.govservice as of {args.commit}")


if __name__ == "__main__":
    main()
