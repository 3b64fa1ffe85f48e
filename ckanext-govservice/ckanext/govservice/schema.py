# moved to core.schema; kept for home.py, views.py, statistics_store/loader.py,
# tests/strategies.py and tests/test_every_service_renders.py until they are updated
from .core.schema import *  # noqa: F401,F403
from .core.schema import python_type as solr_field_kind  # noqa: F401  (its old name)
