# moved to core.rules; kept for tests/strategies.py until it is updated
from .core.rules import *  # noqa: F401,F403
from .core.rules import CALENDAR_DAYS_PER_UNIT, CHANNELS_NEEDING_ADDRESS, CHANNELS_NEEDING_URL, ONLINE_STAGES  # noqa: F401
