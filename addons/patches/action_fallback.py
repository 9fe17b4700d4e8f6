"""A friendly reply instead of silence when the action server is unavailable.

Rasa 3.6 turns a failed call to the action server (connection refused, reset,
timeout, HTTP 5xx) into an exception that the processor logs; the action's
events are dropped and the user gets nothing. `install()` wraps
`RemoteAction.run` so that such a failure becomes

    BotUttered(<service_unavailable from addons/messages.yml>), FollowupAction(action_listen)

The text is said once per user message (Traditional when the user writes
Traditional) and the turn ends there: nothing else this turn needs a server
that is down. The next message, once the action server is back, is handled
normally.

Inside a form (the form's validation and `action_ask_*` are remote actions) the
form's own events are dropped instead, so the form stays where it was (same
active loop and requested slot) and the slots extracted from the failed message
get their earlier values back: no unvalidated value is kept.

Target: Rasa 3.6.21 `rasa.core.actions.action.RemoteAction.run(self, output_channel, nlg,
tracker, domain)` and `rasa.core.actions.forms.FormAction.run` (inherited from `LoopAction`
in Rasa; set on FormAction itself while installed). Installed at start-up by
`addons.server_hooks.install_all()`, never at import time.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from typing import Any, Callable, Iterable, Iterator, List, Optional, Text

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, FollowupAction, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError as RasaClientResponseError

from addons.messages import SERVICE_UNAVAILABLE, message

logger = logging.getLogger(__name__)

MARKER = "service_unavailable"  # BotUttered metadata key of the friendly text

_inside_form: "contextvars.ContextVar[bool]" = contextvars.ContextVar("inside_form", default=False)
_originals: dict = {}


class ActionServerUnavailable(RasaException):
    """A remote action failed because the action server is unreachable or broken (inside a form)."""


def unavailability(error: Optional[BaseException]) -> Optional[str]:
    """Why the action server is unavailable, if `error` (or what caused it) says so; else None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ActionExecutionRejection):
            return None
        if isinstance(error, (aiohttp.ClientResponseError, RasaClientResponseError)):
            return f"HTTP {error.status}" if error.status >= 500 else None
        if isinstance(error, aiohttp.ClientConnectionError):
            return f"connection failed ({type(error).__name__})"
        if isinstance(error, asyncio.TimeoutError):
            return "timed out"
        error = error.__cause__ or error.__context__
    return None


def _events_of_this_turn(tracker: DialogueStateTracker) -> Iterator[Event]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return
        yield event


def _user_texts_newest_first(tracker: DialogueStateTracker) -> Iterator[str]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            yield event.text or ""


def already_said(tracker: DialogueStateTracker) -> bool:
    return any(isinstance(e, BotUttered) and (e.metadata or {}).get(MARKER) for e in _events_of_this_turn(tracker))


def unavailable_events(tracker: DialogueStateTracker, extra: Iterable[Event] = ()) -> List[Event]:
    """The friendly text (unless said already this turn), `extra`, then end the turn."""
    events: List[Event] = []
    if not already_said(tracker):
        text = message(SERVICE_UNAVAILABLE, _user_texts_newest_first(tracker))
        events.append(BotUttered(text, metadata={MARKER: True}))
    events.extend(extra)
    events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


def _slot_restores(tracker: DialogueStateTracker, slot_names: Iterable[Text], domain: Domain) -> List[Event]:
    """SlotSet events giving `slot_names` the values they had before the latest user message."""
    events = list(tracker.events)
    latest = next((i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)), None)
    if latest is None:
        return []
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:latest], slots=domain.slots)
    restores = []
    for name in slot_names:
        old = before.get_slot(name)
        if tracker.get_slot(name) != old:
            restores.append(SlotSet(name, old))
    return restores


def _wrap_remote_run(original: Callable) -> Callable:
    @functools.wraps(original)
    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: DialogueStateTracker, domain: Domain):
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as error:  # noqa: BLE001 - re-raised unless it means "server unavailable"
            reason = unavailability(error)
            if reason is None:
                raise
            url = self.action_endpoint.url if self.action_endpoint else "?"
            logger.error(
                f"Action server unavailable ({reason}) for '{self.name()}' at {url}: "
                "the user gets the service-unavailable text."
            )
            if _inside_form.get():
                raise ActionServerUnavailable(f"action server unavailable: {reason}") from error
            return unavailable_events(tracker)

    run.__action_fallback__ = True  # type: ignore[attr-defined]
    return run


def _wrap_form_run(original: Callable) -> Callable:
    @functools.wraps(original)
    async def run(self: FormAction, output_channel: Any, nlg: Any, tracker: DialogueStateTracker, domain: Domain):
        token = _inside_form.set(True)
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionServerUnavailable:
            # The form's events are dropped: it stays as it was before this message.
            restores = _slot_restores(tracker, self.required_slots(domain), domain)
            return unavailable_events(tracker, restores)
        finally:
            _inside_form.reset(token)

    run.__action_fallback__ = True  # type: ignore[attr-defined]
    return run


def installed() -> bool:
    return getattr(RemoteAction.run, "__action_fallback__", False)


def install() -> bool:
    """Wrap RemoteAction.run and FormAction.run; True if this call installed them. Idempotent."""
    if installed():
        return False
    _originals["remote"] = RemoteAction.__dict__["run"]
    _originals["form"] = FormAction.__dict__.get("run")  # None: inherited from LoopAction
    RemoteAction.run = _wrap_remote_run(RemoteAction.run)  # type: ignore[method-assign]
    FormAction.run = _wrap_form_run(FormAction.run)  # type: ignore[method-assign]
    logger.debug("Service-unavailable reply for custom actions installed.")
    return True


def uninstall() -> None:
    """Undo install() (tests)."""
    if not installed():
        return
    RemoteAction.run = _originals.pop("remote")  # type: ignore[method-assign]
    form = _originals.pop("form")
    if form is None:
        del FormAction.run
    else:
        FormAction.run = form  # type: ignore[method-assign]
