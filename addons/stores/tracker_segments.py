"""Long sessions stored in segments, so that a turn costs the same at turn 200 as at turn 1.

Rasa loads a conversation's events since its latest `SessionStarted`, replays them into a
tracker, featurizes all of them for the policy, and serialises all of them to the action
server, at every turn: a turn's cost grows with the conversation. When a session grows
beyond `segment_turns` user turns, the tracker store closes the segment at the end of a
turn by storing a `SessionStarted` followed by what the conversation knows: every slot
(the facts, the case records, the form's answers and requested slot), the active form,
the conversation's script and the last message's buttons (so that "好" or "1" still takes
them), then `action_listen`. The next turn loads only that segment; nothing it needs is
lost, and the earlier segments stay stored (deletion and retention remove them all).

This is not a new Rasa session: `action_session_start` does not run and no greeting is sent.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

SCRIPT_SLOT = "script"
LAST_BUTTONS_SLOT = "last_buttons"  # the buttons of the bot's last message, for a "好" after a segment break
NOT_CARRIED = ("session_started_metadata",)


def user_turns(tracker: DialogueStateTracker) -> int:
    """User messages in the loaded segment (the tracker holds only the latest one)."""
    return sum(1 for event in tracker.events if isinstance(event, UserUttered))


def _user_texts_newest_first(tracker: DialogueStateTracker) -> Iterator[str]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            yield event.text or ""


def _script(tracker: DialogueStateTracker) -> Optional[str]:
    from chinese_text.script import script_of

    for text in _user_texts_newest_first(tracker):
        script = script_of(text)
        if script is not None:
            return script
    return tracker.get_slot(SCRIPT_SLOT)


def _last_buttons(tracker: DialogueStateTracker) -> Optional[List[Dict[str, Any]]]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
            return list(event.data["buttons"])
    return None


def segment_break(tracker: DialogueStateTracker, segment_turns: int) -> List[Event]:
    """The events that close a long segment at the end of a turn ([] when it is not time yet)."""
    if segment_turns <= 0 or user_turns(tracker) < segment_turns:
        return []
    last = tracker.events[-1] if tracker.events else None
    if not (isinstance(last, ActionExecuted) and last.action_name == ACTION_LISTEN_NAME):
        return []  # only between turns
    if tracker.is_paused() or tracker.latest_action_name == ACTION_SESSION_START_NAME:
        return []
    carried: Dict[str, Any] = {
        name: slot.value for name, slot in tracker.slots.items() if slot.value is not None and name not in NOT_CARRIED
    }
    script = _script(tracker)
    if script is not None:
        carried[SCRIPT_SLOT] = script
    buttons = _last_buttons(tracker)
    if LAST_BUTTONS_SLOT in tracker.slots:
        carried[LAST_BUTTONS_SLOT] = buttons
    events: List[Event] = [SessionStarted()]
    if tracker.active_loop_name:
        events.append(ActiveLoop(tracker.active_loop_name))
    events += [SlotSet(name, value) for name, value in carried.items()]
    events.append(ActionExecuted(ACTION_LISTEN_NAME))
    return events
