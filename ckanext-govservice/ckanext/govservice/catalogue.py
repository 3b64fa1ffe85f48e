# moved to core.tabular; kept for tests/test_every_service_renders.py until it is updated
from .core.tabular import *  # noqa: F401,F403
