"""Fixtures and process-wide setup of the channel tests (harnesses: *_harness.py)."""

from __future__ import annotations

import pytest
from sanic import Sanic

# The channel tests start several Sanic apps in one process. Outside test mode
# Sanic 21.12 "touches up" its methods once per app and the second app fails
# (KeyError in sanic/touchup). Set here, before any test module starts a server.
Sanic.test_mode = True

WECHAT_ENV = (
    "WECHAT_TOKEN",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_AES_KEY",
    "WECHAT_API_BASE_URL",
    "WECHAT_REPLY_TIMEOUT",
)


@pytest.fixture
def no_wechat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """None of the WeChat variables set, as on a machine without WeChat configured."""
    for name in WECHAT_ENV:
        monkeypatch.delenv(name, raising=False)
