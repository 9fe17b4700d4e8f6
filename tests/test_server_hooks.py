"""addons/server_hooks.py: every patch to Rasa installed by install_all(), idempotent and reversible,
and the project's NLG and tracker store refuse to start without them.

The entry points that start Rasa in a subprocess are tested in tests/test_launcher.py
(`python -m addons.rasa_cli`, plain `rasa`, the terminal chat) and tests/test_run_server.py.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any, Dict, Iterator, List, Optional

import pytest
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from addons import server_hooks
from addons.patches import action_reply_validation, log_redaction, offer_choice
from addons.settings import PROJECT_ROOT
from addons.stores import retention

ENDPOINTS = str(PROJECT_ROOT / "endpoints.yml")
PHONE = "13800138000"


def _rasa_targets() -> Dict[str, Any]:
    """What each patch replaces, as the classes hold it now."""
    return {
        "RemoteAction.run": RemoteAction.__dict__["run"],
        "FormAction.run": FormAction.__dict__.get("run"),
        "RemoteAction._validate_action_result": RemoteAction.__dict__["_validate_action_result"],
        "MessageProcessor.parse_message": MessageProcessor.__dict__["parse_message"],
        "logging record factory": logging.getLogRecordFactory(),
    }


@pytest.fixture
def pristine() -> Iterator[Dict[str, Any]]:
    """No patch installed; Rasa's own targets. Afterwards the process is as it was found."""
    before = server_hooks.installed()
    server_hooks.uninstall_all()
    yield _rasa_targets()
    server_hooks.uninstall_all()
    for patch in server_hooks.PATCHES:
        if patch.name in before:
            patch.module().install()


def _logged(text: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # configured after the install, as Rasa configures its own
    log = logging.getLogger("rasa.core.processor.test_server_hooks")
    log.addHandler(handler)
    log.propagate, old_level = False, log.level
    log.setLevel(logging.INFO)
    try:
        log.info("Received user message '%s'", text)
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    return stream.getvalue()


# --- install_all ---------------------------------------------------------------------------------


def test_the_registry_lists_every_patch_the_project_makes():
    assert server_hooks.NAMES == ("action_fallback", "action_reply_validation", "offer_choice", "log_redaction")
    for patch in server_hooks.PATCHES:
        module = patch.module()
        assert callable(module.install) and callable(module.uninstall) and callable(module.installed)
        assert f"Rasa {server_hooks.RASA_VERSION}" in module.__doc__  # each names the version it targets
        assert patch.target and patch.purpose


def test_patches_were_written_for_the_installed_rasa():
    """An upgrade of Rasa fails here: review every target in addons/server_hooks.py, then the pin."""
    assert rasa.__version__ == server_hooks.RASA_VERSION


def test_no_patch_is_missing_after_install_all(pristine):
    assert set(server_hooks.missing()) == set(server_hooks.NAMES)
    assert server_hooks.install_all() == list(server_hooks.NAMES)
    assert server_hooks.missing() == [] and server_hooks.installed() == list(server_hooks.NAMES)

    now = _rasa_targets()
    assert getattr(now["RemoteAction.run"], "__action_fallback__", False)
    assert pristine["FormAction.run"] is None and getattr(now["FormAction.run"], "__action_fallback__", False)
    assert now["RemoteAction._validate_action_result"] is action_reply_validation._validate_action_result
    assert getattr(now["MessageProcessor.parse_message"], "__offer_choice__", False)
    logged = _logged(f"手机{PHONE}")
    assert PHONE not in logged and "[手机号]" in logged
    for name, original in pristine.items():
        assert now[name] is not original, name


def test_install_all_is_idempotent(pristine):
    server_hooks.install_all()
    first = _rasa_targets()
    assert server_hooks.install_all() == []
    assert _rasa_targets() == first  # nothing wrapped twice
    assert _logged(f"手机{PHONE}").count("[手机号]") == 1


def test_uninstall_all_gives_rasa_its_own_code_back(pristine):
    server_hooks.install_all()
    server_hooks.uninstall_all()
    assert _rasa_targets() == pristine
    assert server_hooks.installed() == [] and set(server_hooks.missing()) == set(server_hooks.NAMES)
    assert PHONE in _logged(f"手机{PHONE}")


def test_one_patch_uninstalled_by_name_is_missing(pristine):
    server_hooks.install_all()
    server_hooks.uninstall("offer_choice")
    assert server_hooks.missing() == ["offer_choice"]
    assert MessageProcessor.__dict__["parse_message"] is pristine["MessageProcessor.parse_message"]
    with pytest.raises(KeyError, match="unknown Rasa patch"):
        server_hooks.uninstall("no_such_patch")


def test_a_patch_left_out_on_purpose_is_not_missing(pristine):
    server_hooks.install_all()
    assert server_hooks.install_all(leave_out=["action_reply_validation"]) == []
    assert RemoteAction.__dict__["_validate_action_result"] is pristine["RemoteAction._validate_action_result"]
    assert "action_reply_validation" not in server_hooks.installed() and server_hooks.missing() == []
    server_hooks.install_all()  # all again: the patch is back
    assert server_hooks.installed() == list(server_hooks.NAMES)


def test_an_unknown_name_to_leave_out_installs_nothing(pristine):
    with pytest.raises(KeyError, match="unknown Rasa patch"):
        server_hooks.install_all(leave_out=["action_reply_validaton"])
    assert server_hooks.installed() == []


# --- the components refuse to start without them -----------------------------------------------


def test_the_nlg_and_the_tracker_store_from_endpoints_yml_refuse_to_start_without_the_hooks(
    pristine, tmp_path, monkeypatch
):
    database = tmp_path / "rasa.db"
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{database}")
    nlg_config = read_endpoint_config(ENDPOINTS, "nlg")
    store_config = read_endpoint_config(ENDPOINTS, "tracker_store")
    # Through Rasa's own factories: no silent fallback to Rasa's NLG or the in-memory store.
    with pytest.raises(server_hooks.HooksNotInstalled, match="ScriptAwareNLG .*action_fallback.*log_redaction"):
        NaturalLanguageGenerator.create(nlg_config, Domain.empty())
    with pytest.raises(server_hooks.HooksNotInstalled, match="RedactingTrackerStore .*addons.rasa_cli"):
        TrackerStore.create(store_config)
    assert not database.exists()

    server_hooks.install_all(leave_out=["offer_choice"])
    NaturalLanguageGenerator.create(nlg_config, Domain.empty())  # what was left out on purpose is not missing
    server_hooks.uninstall("action_fallback")
    with pytest.raises(server_hooks.HooksNotInstalled, match="not installed: action_fallback. "):
        TrackerStore.create(store_config)

    server_hooks.install_all()
    assert type(NaturalLanguageGenerator.create(nlg_config, Domain.empty())).__name__ == "ScriptAwareNLG"
    assert type(TrackerStore.create(store_config)).__name__ == "RedactingTrackerStore"
    assert database.exists()


def test_rasa_at_debug_is_pointed_out_once_when_the_agent_loads(pristine, monkeypatch, caplog):
    server_hooks.install_all()
    monkeypatch.setattr(log_redaction, "_warned_about_debug", False)  # once per process: start afresh
    rasa_logger = logging.getLogger("rasa")
    old_level = rasa_logger.level
    rasa_logger.setLevel(logging.DEBUG)  # as `rasa run --debug` sets it
    try:
        with caplog.at_level(logging.WARNING, logger="addons.patches.log_redaction"):
            server_hooks.require_installed("ScriptAwareNLG")
            server_hooks.require_installed("RedactingTrackerStore")
    finally:
        rasa_logger.setLevel(old_level)
    assert [r.getMessage() for r in caplog.records].count(
        "DEBUG logging prints users' messages (Rasa logs parse data): use INFO in production."
    ) == 1


# --- entry points called in this process -------------------------------------------------------------


def test_make_purge_installs_them(pristine, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'rasa.db'}")
    assert retention.main(["--days", "30"]) == 0
    assert "Deleted 0 conversation(s)" in capsys.readouterr().out
    assert server_hooks.missing() == []


# --- the offer-choice wrapper itself -------------------------------------------------------------------


def test_parse_message_parses_a_typed_number_as_the_chosen_button(pristine):
    seen: List[str] = []

    async def rasa_parse(
        self: Any,
        message: UserMessage,
        tracker: Optional[DialogueStateTracker] = None,
        only_output_properties: bool = True,
    ) -> Dict[str, Any]:
        seen.append(message.text)
        return {"text": message.text, "intent": {"name": "x", "confidence": 1.0}}

    parse = offer_choice._wrap_parse_message(rasa_parse)
    buttons = [{"title": "查看法律依据", "payload": "/ask_legal_basis"}, {"title": "记录", "payload": "/start_log"}]
    tracker = DialogueStateTracker.from_events(
        "u", [ActionExecuted("action_listen"), UserUttered("你好"), BotUttered("要记录吗？", {"buttons": buttons})]
    )
    chosen = asyncio.run(parse(None, UserMessage("2", CollectingOutputChannel(), "u"), tracker))
    assert chosen["offer_choice"] == "/start_log" and seen == ["/start_log"]
    plain = asyncio.run(parse(None, UserMessage("3", CollectingOutputChannel(), "u"), tracker))
    assert "offer_choice" not in plain and seen[-1] == "3"  # more than the options: an answer of its own
    assert asyncio.run(parse(None, UserMessage("2", CollectingOutputChannel(), "u"))) == {
        "text": "2",
        "intent": {"name": "x", "confidence": 1.0},
    }  # no tracker (e.g. /model/parse): nothing to choose from
