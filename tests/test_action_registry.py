"""Every custom action the domain names is served by the action server, and only those."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor


def test_domain_actions_match_registered_actions(domain):
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(domain["actions"]) == set(executor.actions)
