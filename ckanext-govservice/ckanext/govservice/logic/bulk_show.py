"""CKAN's package_show as a harvest's bulk batch takes part in it (bulk_load.py)."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict


@tk.chained_action
@tk.side_effect_free
def package_show(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """CKAN's package_show: parameters, answer and errors are its own. Within a
    harvest's bulk batch, a dataset the batch has just written is shown once for
    both its activity record and its search document (``bulk_load.py``)."""
    from .. import bulk_load
    return bulk_load.package_show(up_func, context, data_dict)
