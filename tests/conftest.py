"""Fixtures shared by the test files."""

import pytest


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own empty corpus cache, never the user's real one."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("RNNTUI_CACHE_DIR", str(path))
    return path
