"""Every change this project makes to Rasa's own classes, installed in one place.

`install_all()` is idempotent and runs when the Rasa server loads the agent (from the
NLG class configured in endpoints.yml, the one hook Rasa calls for every entry point:
`rasa run`, `rasa shell`, `rasa test`, the terminal chat). Each patch names the Rasa
version it was written against; `tests/test_server_hooks.py` fails if one is missing.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from addons.patches import action_fallback, action_reply_validation
from addons.patches.log_redaction import install_log_redaction
from addons.patches.offer_choice import chosen_payload, last_buttons

_originals: Dict[str, Any] = {}
OFFER_CHOICE = "offer_choice"  # parse-data key: the button a typed "1" or "好" chose


def _wrap_parse_message(original: Callable) -> Callable:
    """Rasa 3.6.21 MessageProcessor.parse_message(message, tracker, only_output_properties):
    parse a typed option number or a bare yes as the payload of the button it chooses."""

    @functools.wraps(original)
    async def parse_message(self, message: UserMessage, tracker=None, only_output_properties: bool = True):
        payload: Optional[str] = None
        if tracker is not None and message.text:
            payload = chosen_payload(message.text, last_buttons(tracker))
        if payload is None:
            return await original(self, message, tracker, only_output_properties)
        chosen = UserMessage(
            payload, message.output_channel, message.sender_id, input_channel=message.input_channel,
            message_id=message.message_id, metadata=message.metadata,
        )
        parse_data = await original(self, chosen, tracker, only_output_properties)
        parse_data[OFFER_CHOICE] = payload
        return parse_data

    return parse_message


def install_offer_choice() -> bool:
    if "parse_message" in _originals:
        return False
    _originals["parse_message"] = MessageProcessor.__dict__["parse_message"]
    MessageProcessor.parse_message = _wrap_parse_message(_originals["parse_message"])  # type: ignore[method-assign]
    return True


def uninstall_offer_choice() -> None:
    if "parse_message" in _originals:
        MessageProcessor.parse_message = _originals.pop("parse_message")  # type: ignore[method-assign]


def offer_choice_installed() -> bool:
    return "parse_message" in _originals


def install_all() -> None:
    """Install every patch (idempotent)."""
    action_fallback.install()  # a friendly "稍后再试" instead of silence when the action server is down
    action_reply_validation.install()  # the action-reply validator is built once (profiled hot spot)
    install_offer_choice()
    install_log_redaction()
