# moved to core.kpis; kept for statistics_store/ (tables, loader, queries), statistics_publish.py,
# performance_pages.py and home.py until they are updated
from .core.kpis import *  # noqa: F401,F403
from .core.kpis import _text  # noqa: F401
