"""The faster action-reply validation accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from addons.patches import action_reply_validation


@pytest.fixture
def patched():
    was = action_reply_validation.installed()
    action_reply_validation.install()
    yield RemoteAction("action_x", None)
    if not was:
        action_reply_validation.uninstall()


def test_valid_reply_passes(patched):
    reply = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "你好"}]}
    assert patched._validate_action_result(reply) is True


@pytest.mark.parametrize("reply", [{"events": "nope"}, {"events": [{"event": 3}]}, {"responses": "x"}])
def test_invalid_reply_raises_like_rasa(patched, reply):
    with pytest.raises(ValidationError):
        patched._validate_action_result(reply)


def test_install_is_idempotent_and_reversible():
    was = action_reply_validation.installed()
    action_reply_validation.uninstall()
    original = RemoteAction._validate_action_result
    try:
        assert not action_reply_validation.installed()
        assert action_reply_validation.install() is True and action_reply_validation.installed()
        assert action_reply_validation.install() is False
        action_reply_validation.uninstall()
        assert RemoteAction._validate_action_result is original and not action_reply_validation.installed()
    finally:
        if was:
            action_reply_validation.install()
