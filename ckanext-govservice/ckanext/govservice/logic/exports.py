"""What the platform's downloads hold: every CSV and TSV it serves is safe to
open in a spreadsheet.

The bulk files the platform writes itself neutralise formulas when they are
written (``core.tabular``). A DataStore table's dump (``/datastore/dump/<id>``,
the statistics table's among them) is written by the DataStore from pages of
``datastore_search`` in its ``csv`` and ``tsv`` record formats; chaining that
action neutralises those pages too, whoever asks for them.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ..core import tabular

DELIMITERS = {"csv": ",", "tsv": "\t"}


@tk.chained_action
@tk.side_effect_free
def datastore_search(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """The DataStore's datastore_search; parameters, answer and errors are
    its own. In the ``csv`` and ``tsv`` record formats (what a table's dump is
    made of) a text cell that a spreadsheet would run as a formula (it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) starts with
    ``'``; numbers are untouched. The JSON record formats are unchanged."""
    result = up_func(context, data_dict)
    delimiter = DELIMITERS.get(data_dict.get("records_format"))
    if delimiter and result.get("records"):
        text_columns = [f.get("type") == "text" for f in result.get("fields") or []]
        result["records"] = tabular.neutralise_delimited(result["records"], text_columns, delimiter)
    return result
