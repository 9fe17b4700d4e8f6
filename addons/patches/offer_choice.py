"""A typed option number, or a bare "好", after a message with buttons takes that button.

People answer an offer the way they would answer a person: "好", "可以", "嗯", or the
number of the option ("1", "２", "第二个"). Without this, "1" and "好" reach the NLU as
new messages and the offer is lost. Every channel (widget, REST, WeChat, terminal)
goes through the same Rasa processor, so the choice is resolved there, before NLU:
the message keeps its text in the conversation and is parsed as the button's payload.

- A bare number N with at least N buttons on the bot's last message: button N.
- A bare yes with exactly one *offer* among those buttons (a topic or a flow to
  start; not "查看法律依据", yes/no or form answers): that offer. With several offers
  the yes stays a yes, and the affirm action asks which one.

Target: Rasa 3.6.21 `rasa.core.processor.MessageProcessor.parse_message(self, message,
tracker=None, only_output_properties=True)`, wrapped by `install()`; the parse data of a
chosen button carries `OFFER_CHOICE` (its payload).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Callable, Dict, List, Optional, Sequence

from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from chinese_text.offers import offers

OFFER_CHOICE = "offer_choice"  # parse-data key: the button a typed "1" or "好" chose

_original_parse_message: Optional[Callable] = None

_NUMBER = re.compile(r"^(?:选|选择|第)?\s*([1-9])\s*(?:个|项|号)?$")
_CN_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_NUMBER = re.compile(r"^(?:选|选择)?第?([一二两三四五])(?:个|项)$")
_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(9)}  # ①..⑨
YES_WORDS = {
    "好",
    "好的",
    "好啊",
    "好呀",
    "好吧",
    "好滴",
    "可以",
    "可以的",
    "可以啊",
    "嗯",
    "嗯嗯",
    "恩",
    "行",
    "行吧",
    "要",
    "要的",
    "需要",
    "是",
    "是的",
    "对",
    "对的",
    "ok",
    "okay",
    "好的谢谢",
    "麻烦了",
    "麻烦你了",
    "来吧",
    "继续",
    "👌",
    "好的好的",
    "可",
    "中",
    "得",
    "冇问题",
    "没问题",
}
_STRIP = re.compile(r"[\s,.!?;:，。！？；：、~～…]+")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "")
    return _STRIP.sub("", folded).lower()


def option_number(text: str) -> Optional[int]:
    """1..9 when the whole message picks an option ("2", "２", "②", "第二个", "选3")."""
    plain = _plain(text)
    if plain in _CIRCLED:
        return _CIRCLED[plain]
    match = _NUMBER.match(plain)
    if match:
        return int(match.group(1))
    match = _CN_NUMBER.match(plain)
    return _CN_ORDINALS[match.group(1)] if match else None


def is_bare_yes(text: str) -> bool:
    plain = _plain(text)
    return plain in YES_WORDS or (bool(plain) and all(ch == "👍" or ch == "👌" for ch in plain))


def last_buttons(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """Buttons of the bot's last message with buttons since the user last spoke; at the start of a
    stored segment (addons/stores/tracker_segments.py) the ones the segment break kept."""
    from addons.stores.tracker_segments import LAST_BUTTONS_SLOT

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or []
            if buttons:
                return list(buttons)
        if isinstance(event, SessionStarted):
            break
    kept = tracker.get_slot(LAST_BUTTONS_SLOT) if LAST_BUTTONS_SLOT in tracker.slots else None
    return list(kept or [])


def chosen_payload(text: str, buttons: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The payload the message chooses, or None when it is a message of its own."""
    if not buttons or not text or text.startswith("/"):
        return None
    number = option_number(text)
    if number is not None:
        if number > len(buttons):
            return None  # "3" with two options is an answer of its own
        return str(buttons[number - 1].get("payload") or "") or None
    if is_bare_yes(text):
        candidates = offers(buttons)
        if len(candidates) == 1:
            return str(candidates[0].get("payload") or "") or None
    return None


def _wrap_parse_message(original: Callable) -> Callable:
    from rasa.core.channels.channel import UserMessage

    @functools.wraps(original)
    async def parse_message(
        self: Any,
        message: UserMessage,
        tracker: Optional[DialogueStateTracker] = None,
        only_output_properties: bool = True,
    ) -> Dict[str, Any]:
        payload: Optional[str] = None
        if tracker is not None and message.text:
            payload = chosen_payload(message.text, last_buttons(tracker))
        if payload is None:
            return await original(self, message, tracker, only_output_properties)
        chosen = UserMessage(
            payload,
            message.output_channel,
            message.sender_id,
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata=message.metadata,
        )
        parse_data = await original(self, chosen, tracker, only_output_properties)
        parse_data[OFFER_CHOICE] = payload
        return parse_data

    parse_message.__offer_choice__ = True  # type: ignore[attr-defined]
    return parse_message


def installed() -> bool:
    from rasa.core.processor import MessageProcessor

    return getattr(MessageProcessor.__dict__.get("parse_message"), "__offer_choice__", False)


def install() -> bool:
    """Wrap MessageProcessor.parse_message; True if this call installed it. Idempotent."""
    global _original_parse_message
    from rasa.core.processor import MessageProcessor

    if installed():
        return False
    _original_parse_message = MessageProcessor.__dict__["parse_message"]
    MessageProcessor.parse_message = _wrap_parse_message(_original_parse_message)  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """Put Rasa's own method back (tests, benchmarks)."""
    global _original_parse_message
    from rasa.core.processor import MessageProcessor

    if installed() and _original_parse_message is not None:
        MessageProcessor.parse_message = _original_parse_message  # type: ignore[method-assign]
        _original_parse_message = None
