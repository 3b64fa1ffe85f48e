# moved to core.schema; kept for helpers.py, home.py, views.py, statistics_store/loader.py
# and tests/test_every_service_renders.py, tests/strategies.py until they are updated
from .core.schema import *  # noqa: F401,F403
from .core.schema import python_type as solr_field_kind  # noqa: F401  (its old name)
