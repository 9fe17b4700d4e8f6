"""Friendly "稍后再试" instead of silence when the action server is unavailable (addons/patches/action_fallback.py)."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from typing import AsyncIterator, List

import pytest
import yaml
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, FollowupAction, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from addons.messages import MESSAGES_FILE, RATE_LIMITED, SERVICE_UNAVAILABLE, load_messages, message
from addons.patches import action_fallback

FRIENDLY = "系统暂时忙不过来，请稍后再试。如果有人正在威胁你的安全，请马上拨打110。"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, inform, start_plan]
entities: [amount]
slots:
  amount:
    type: any
    mappings:
    - type: from_entity
      entity: amount
  income:
    type: any
    mappings:
    - type: from_entity
      entity: amount
      conditions:
      - active_loop: plan_form
        requested_slot: income
forms:
  plan_form:
    required_slots: [amount, income]
actions: [action_answer, validate_plan_form, action_ask_income]
"""
)


def closed_port_url() -> str:
    with socket.socket() as probe:  # bound, never listening: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"


@asynccontextmanager
async def action_server(status: int, body: dict) -> AsyncIterator[str]:
    async def webhook(_: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        await runner.cleanup()


@pytest.fixture
def installed():
    was = action_fallback.installed()
    action_fallback.install()
    yield
    if not was:
        action_fallback.uninstall()


def tracker_after(text: str, *extra: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "user-1", [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text), *extra], slots=DOMAIN.slots
    )


async def run_remote(name: str, url: str, tracker: DialogueStateTracker) -> List[Event]:
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return await RemoteAction(name, EndpointConfig(url)).run(CollectingOutputChannel(), nlg, tracker, DOMAIN)


def texts(events: List[Event]) -> List[str]:
    return [event.text for event in events if isinstance(event, BotUttered)]


# --- the texts ------------------------------------------------------------------------------------


def test_texts_live_in_addons_messages_yml_not_in_the_domain():
    messages = load_messages()
    assert messages[SERVICE_UNAVAILABLE] == FRIENDLY
    assert "稍后再试" in messages[SERVICE_UNAVAILABLE] and "110" in messages[SERVICE_UNAVAILABLE]
    assert "110" in messages[RATE_LIMITED] and len(messages[RATE_LIMITED]) < 60
    raw = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    # The channels' own texts (addons/channels/guard.py, WeChat) live there too.
    assert set(raw) == {SERVICE_UNAVAILABLE, RATE_LIMITED, "not_text", "voice_not_recognised", "menu_line"}
    domain_text = (MESSAGES_FILE.parent.parent / "domain.yml").read_text(encoding="utf-8")
    assert FRIENDLY not in domain_text


def test_text_follows_the_newest_chinese_user_text():
    assert message(SERVICE_UNAVAILABLE, ["催收的人能進我家嗎"]).startswith("系統暫時忙不過來，請稍後再試")
    assert message(SERVICE_UNAVAILABLE, ["/start_installment_plan", "催收的人能進我家嗎"]).startswith("系統")
    assert message(SERVICE_UNAVAILABLE, ["催收的人能进我家吗", "催收的人能進我家嗎"]) == FRIENDLY
    assert message(SERVICE_UNAVAILABLE, []) == FRIENDLY


# --- install -----------------------------------------------------------------------------------------


def test_installed_by_install_not_by_importing_and_reversible():
    was = action_fallback.installed()
    action_fallback.uninstall()
    try:
        original = RemoteAction.run
        import addons.script_nlg  # noqa: F401 - importing the NLG (or anything) installs nothing

        assert not action_fallback.installed() and RemoteAction.run is original
        assert action_fallback.install() is True
        assert action_fallback.installed() and RemoteAction.run is not original
        wrapped = RemoteAction.run
        assert action_fallback.install() is False and RemoteAction.run is wrapped  # never wrapped twice
        action_fallback.uninstall()
        assert RemoteAction.run is original and "run" not in FormAction.__dict__
    finally:
        if was:
            action_fallback.install()


# --- plain custom actions ------------------------------------------------------------------------


def test_without_the_fallback_rasa_raises_and_the_user_hears_nothing():
    was = action_fallback.installed()
    action_fallback.uninstall()
    try:
        with pytest.raises(RasaException, match="Couldn't connect"):
            asyncio.run(run_remote("action_answer", closed_port_url(), tracker_after("你好")))
    finally:
        if was:
            action_fallback.install()


def test_unreachable_action_server_gives_the_friendly_text_and_ends_the_turn(installed):
    events = asyncio.run(run_remote("action_answer", closed_port_url(), tracker_after("催收的人能进我家吗")))
    assert texts(events) == [FRIENDLY]
    assert isinstance(events[-1], FollowupAction) and events[-1].action_name == ACTION_LISTEN_NAME
    assert events[0].metadata == {action_fallback.MARKER: True}


def test_traditional_user_gets_traditional_text(installed):
    events = asyncio.run(run_remote("action_answer", closed_port_url(), tracker_after("催收的人能進我家嗎")))
    assert texts(events) == ["系統暫時忙不過來，請稍後再試。如果有人正在威脅你的安全，請馬上撥打110。"]


def test_said_once_per_user_message(installed):
    tracker = tracker_after("你好")
    first = asyncio.run(run_remote("action_answer", closed_port_url(), tracker))
    for event in first:
        tracker.update(event)
    second = asyncio.run(run_remote("action_answer", closed_port_url(), tracker))
    assert texts(second) == [] and isinstance(second[-1], FollowupAction)
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(UserUttered("还在吗"))
    assert texts(asyncio.run(run_remote("action_answer", closed_port_url(), tracker))) == [FRIENDLY]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_action_server_errors_give_the_friendly_text(installed, status):
    async def scenario():
        async with action_server(status, {"error": "boom"}) as url:
            return await run_remote("action_answer", url, tracker_after("你好"))

    assert texts(asyncio.run(scenario())) == [FRIENDLY]


def test_rejection_by_the_action_server_is_still_a_rejection(installed):
    async def scenario():
        async with action_server(400, {"action_name": "action_answer", "error": "no"}) as url:
            return await run_remote("action_answer", url, tracker_after("你好"))

    with pytest.raises(ActionExecutionRejection):
        asyncio.run(scenario())


def test_a_working_action_server_is_untouched(installed):
    async def scenario():
        body = {"events": [{"event": "slot", "name": "amount", "value": 5}], "responses": [{"text": "好的"}]}
        async with action_server(200, body) as url:
            return await run_remote("action_answer", url, tracker_after("你好"))

    events = asyncio.run(scenario())
    assert texts(events) == ["好的"] and SlotSet("amount", 5) in events
    assert not any(isinstance(event, FollowupAction) for event in events)


def test_unavailability_reads_the_cause_chain():
    import aiohttp

    try:
        try:
            raise aiohttp.ClientConnectorError(None, OSError(111, "refused"))  # type: ignore[arg-type]
        except aiohttp.ClientError:
            # Implicit chaining, as Rasa raises it: unavailability() must follow __context__, not only __cause__.
            raise RasaException("Failed to execute custom action")  # noqa: B904
    except RasaException as error:
        assert action_fallback.unavailability(error).startswith("connection failed")
    assert action_fallback.unavailability(asyncio.TimeoutError()) == "timed out"
    assert action_fallback.unavailability(ValueError("a bug")) is None
    assert action_fallback.unavailability(ActionExecutionRejection("x")) is None


# --- forms ------------------------------------------------------------------------------------------------


def form_tracker() -> DialogueStateTracker:
    """plan_form asked for income; the user's "六千" was extracted into income (and amount)."""
    return DialogueStateTracker.from_events(
        "user-2",
        [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("/start_plan", {"name": "start_plan"}),
            ActionExecuted("plan_form"),
            ActiveLoop("plan_form"),
            SlotSet("amount", 43000),
            SlotSet(REQUESTED_SLOT, "income"),
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("六千", {"name": "inform"}),
            SlotSet("amount", 6000),  # what action_extract_slots did
            SlotSet("income", 6000),
        ],
        slots=DOMAIN.slots,
    )


def run_form(url: str, tracker: DialogueStateTracker) -> List[Event]:
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    form = FormAction("plan_form", EndpointConfig(url))
    return asyncio.run(form.run(CollectingOutputChannel(), nlg, tracker, DOMAIN))


def test_form_stays_where_it_was_and_unvalidated_slots_are_restored(installed):
    tracker = form_tracker()
    events = run_form(closed_port_url(), tracker)
    assert texts(events) == [FRIENDLY]
    assert SlotSet("amount", 43000) in events and SlotSet("income", None) in events
    assert not any(isinstance(event, ActiveLoop) for event in events)  # still plan_form
    assert not any(isinstance(event, SlotSet) and event.key == REQUESTED_SLOT for event in events)
    assert events[-1] == FollowupAction(ACTION_LISTEN_NAME)
    for event in events:
        tracker.update(event)
    assert tracker.active_loop_name == "plan_form" and tracker.get_slot(REQUESTED_SLOT) == "income"
    assert (tracker.get_slot("amount"), tracker.get_slot("income")) == (43000, None)


def test_form_outside_the_fallback_context_is_unchanged(installed):
    async def scenario():
        body = {"events": [{"event": "slot", "name": "income", "value": 6000}], "responses": []}
        async with action_server(200, body) as url:
            form = FormAction("plan_form", EndpointConfig(url))
            nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
            return await form.run(CollectingOutputChannel(), nlg, form_tracker(), DOMAIN)

    events = asyncio.run(scenario())
    assert SlotSet("income", 6000) in events and texts(events) == []
    assert not any(isinstance(event, FollowupAction) for event in events)
