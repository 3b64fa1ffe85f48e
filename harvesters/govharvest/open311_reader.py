"""The ``open311`` reader: an Open311 GeoReport v2 service list (``services.json``
or ``services.xml``) into service records.

The mapping, both ways, is the platform's own, in ``ckanext.govservice.core.open311``
(the inverse of what the platform serves at /open311/v2/). This adapter only
turns a list that cannot be read into a job-fatal FormatError and tells the
pipeline how to finish the records: the source's own mapping of the text
fields (``MAPPING``), and the fields an Open311 list never carries (``LACKS``),
which come from the source's defaults (``govharvest source add …
--default audience=citizen``) or get the record rejected naming the field.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ckanext.govservice.core.open311 import LACKS, MAPPING, ListError, parse, record, theme_names

from .errors import FormatError

Raw = Iterator[tuple[str, dict[str, Any]]]

__all__ = ["LACKS", "MAPPING", "ListError", "parse", "read", "record", "theme_names"]


def read(path: Path) -> Raw:
    """The reader of the ``open311`` format (see formats.READERS)."""
    try:
        entries = parse(Path(path).read_bytes())
    except ListError as e:
        raise FormatError(f"Open311 service list could not be read: {e}") from None
    themes = theme_names()
    for i, entry in enumerate(entries, 1):
        yield f"service {i}", record(entry, themes)


read.mapping = MAPPING   # under the source's own mapping
read.lacks = LACKS       # the pipeline rejects a record still lacking one after the defaults
