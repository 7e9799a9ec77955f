"""Suite-wide collection rules."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist with `--dist loadgroup`, every PostgreSQL test runs on one worker, one after another, so
    the scale tests that load the shared server heavily never overlap. (No test stops the shared server: the
    outage test runs a server of its own, `tests.postgres_support.PrivateServer`.)"""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(pytest.mark.xdist_group("postgres"))
