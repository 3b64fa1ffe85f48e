import pytest


@pytest.fixture(autouse=True)
def load_plugins(with_plugins):
    """Every test here runs with the plugins test.ini lists (ours, scheming, datastore…)."""
