"""What every public channel (REST, socket.io, WeChat) does around the bot, written once.

* Sender IDs: `checked_sender_id` accepts a non-empty string or number of at most
  128 characters, and refuses an ID in another channel's namespace (a REST or
  socket.io client claiming a WeChat user's ``wx-`` conversation).
* Rate limit: `rate_limited_text` spends a token of the sender's bucket; over the
  limit it returns the friendly text and the caller does not call the bot.
* No silence: `handle_or_apologise` hands a message to the bot; when that fails
  before the bot said anything it returns the service-unavailable text.
* Health: `add_health_route` answers GET <channel prefix>/ with {"status": "ok"}.

The texts are addons/messages.yml, in Traditional when the user writes Traditional:
each call gets a `WritesTraditional`, asked only when a text is shown (REST and
socket.io: `from_texts([text])`; WeChat: its memory of each user's script).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Pattern, Sequence, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.channels.rate_limit import RateLimiter
from addons.channels.wechat.identity import SENDER_PREFIX as WECHAT_SENDER_PREFIX
from addons.messages import RATE_LIMITED, SERVICE_UNAVAILABLE, message_in_script
from chinese_text.script import prefers_traditional

logger = logging.getLogger(__name__)

MAX_SENDER_ID_CHARS = 128
RETRY_AFTER_SECONDS = 60  # what a REST client over the limit is told to wait
SENDER_ID_RULE = f"must be a non-empty string of at most {MAX_SENDER_ID_CHARS} characters"

# Sender-ID prefixes a channel derives itself; no other channel may accept them, or a
# client that learnt an ID could write into that user's conversation.
RESERVED_SENDER_PREFIXES: Dict[str, str] = {WECHAT_SENDER_PREFIX: "wechat"}

# Whether to answer in Traditional; called only when a text is shown (OpenCC is not free).
WritesTraditional = Callable[[], bool]


def from_texts(user_texts_newest_first: Sequence[str]) -> WritesTraditional:
    """The script of the newest of these user texts that shows one (Simplified when none does)."""
    return lambda: prefers_traditional(user_texts_newest_first)


class InvalidSenderId(ValueError):
    """A sender ID the channel refuses; the message says why (safe to show the client)."""


def checked_sender_id(value: Any, channel: str, allowed: Optional[Pattern[str]] = None) -> str:
    """`value` as a sender ID (numbers as text); InvalidSenderId when it is unusable on `channel`.

    `allowed` narrows the characters further (WeChat's openids).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SENDER_ID_CHARS:
        raise InvalidSenderId(SENDER_ID_RULE)
    if allowed is not None and not allowed.fullmatch(value):
        raise InvalidSenderId(f"must match {allowed.pattern}")
    for prefix, owner in RESERVED_SENDER_PREFIXES.items():
        if value.startswith(prefix) and owner != channel:
            raise InvalidSenderId(f"must not start with {prefix!r} (reserved for the {owner} channel)")
    return value


def rate_limited_text(
    limiter: RateLimiter, channel: str, sender_id: str, traditional: WritesTraditional
) -> Optional[str]:
    """None when the sender may go on; else the rate-limited text (the bot must not be called)."""
    if limiter.allow(sender_id):
        return None
    logger.warning(f"{channel}: a sender is over the rate limit; the bot was not called.")
    return message_in_script(RATE_LIMITED, traditional())


async def handle_or_apologise(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    said_something: Callable[[], bool],
    traditional: WritesTraditional,
    cancelled_is_failure: bool = False,
) -> Optional[str]:
    """Hand `message` to the bot; the service-unavailable text when it failed before saying anything.

    The log names the channel and the error type, never the user's text. `cancelled_is_failure`:
    a cancelled turn (REST's response timeout, as in Rasa's REST channel) counts as a failure
    instead of propagating.
    """
    channel: Text = message.input_channel or "unknown"
    try:
        await on_new_message(message)
        return None
    except asyncio.CancelledError:
        if not cancelled_is_failure:
            raise
        logger.error(f"{channel}: handling a message was cancelled (response timeout or client gone).")
    except Exception as error:  # noqa: BLE001 - the user gets a text, the log gets the type
        logger.error(f"{channel}: handling a message failed ({type(error).__name__}).", exc_info=True)
    return None if said_something() else message_in_script(SERVICE_UNAVAILABLE, traditional())


def add_health_route(blueprint: Blueprint) -> None:
    """GET <channel prefix>/ answers {"status": "ok"} (as Rasa's channels do)."""

    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    blueprint.add_route(health, "/", methods=["GET"], name="health")
