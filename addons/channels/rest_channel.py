"""REST channel with input checks, per-sender rate limiting and no silent failures.

Same name and URLs as Rasa's `rest` channel (POST /webhooks/rest/webhook
{"sender": "...", "message": "..."}; GET /webhooks/rest/ health), so clients do
not change. Differences:

* The body must be a JSON object with a non-empty `sender` (string or number,
  at most 128 characters, not in WeChat's ``wx-`` namespace) and a string
  `message`; anything else is a 400 instead of Rasa's 500 (or every sender-less
  client sharing the conversation "default").
* A sender over RATE_LIMIT_PER_MINUTE gets 429 with a Retry-After header and a
  short friendly text in the usual reply format; the bot is not called.
* When handling the message fails (an exception, or the response timeout) and
  the bot said nothing, the reply is the service-unavailable text with HTTP
  200 instead of an empty list.
* The user's text is never logged here (Rasa's channel logs it on failure).
* The sender check, the rate limit, the failure text and the health route are
  the ones every public channel shares (addons/channels/guard.py).
* One bot utterance is one reply object {"recipient_id", "text", "buttons",
  "custom", "image", "attachment"} (each only when present), also in stream
  mode: Rasa cuts a button-less text at every blank line and sends `custom`
  as an object of its own.

credentials.yml (instead of `rest:`):

    addons.channels.rest_channel.GuardedRestInput:
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from addons.channels.guard import (
    RETRY_AFTER_SECONDS,
    InvalidSenderId,
    add_health_route,
    checked_sender_id,
    from_texts,
    handle_or_apologise,
    rate_limited_text,
)
from addons.channels.rate_limit import RateLimiter


def _bad_request(reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=400)


class OneMessagePerUtterance:
    """`send_response` of a CollectingOutputChannel that stores one object per bot utterance."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        text = message.get("text")
        merged = self._message(  # type: ignore[attr-defined]
            recipient_id,
            text=text.strip() if isinstance(text, str) and text.strip() else None,
            buttons=message.get("quick_replies") or message.get("buttons") or None,
            custom=message.get("custom") or None,
            image=message.get("image") or None,
            attachment=message.get("attachment") or None,
        )
        if len(merged) > 1:  # more than the recipient
            await self._persist_message(merged)  # type: ignore[attr-defined]
        if message.get("elements"):
            await self.send_elements(recipient_id, message["elements"])  # type: ignore[attr-defined]


class OneMessageCollectingOutputChannel(OneMessagePerUtterance, CollectingOutputChannel):
    """Collects the replies of one request, one object per bot utterance."""


class OneMessageQueueOutputChannel(OneMessagePerUtterance, QueueOutputChannel):
    """Stream mode's queue, one object per bot utterance."""


class GuardedRestInput(RestInput):
    """Rasa's REST channel, checked, rate-limited and never silent on errors."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedRestInput":
        return cls()

    def __init__(self, limiter: Optional[RateLimiter] = None) -> None:
        self.limiter = limiter or RateLimiter.from_settings()

    @staticmethod
    def _read(request: Request) -> Union[HTTPResponse, Dict[str, Any]]:
        """The checked request fields, or a 400 response."""
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - Sanic raises InvalidUsage on bad JSON
            return _bad_request("the body must be JSON")
        if not isinstance(body, dict):
            return _bad_request("the body must be a JSON object")
        try:
            sender = checked_sender_id(body.get("sender"), GuardedRestInput.name())
        except InvalidSenderId as error:
            return _bad_request(f"'sender' {error}")
        text = body.get("message")
        if not isinstance(text, str):
            return _bad_request("'message' must be a string")
        metadata = body.get("metadata")
        return {"sender": sender, "text": text, "metadata": metadata if isinstance(metadata, dict) else None}

    @staticmethod
    async def on_message_wrapper(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text,
        queue: asyncio.Queue,
        sender_id: Text,
        input_channel: Text,
        metadata: Optional[Dict[Text, Any]],
    ) -> None:
        """Stream mode (Rasa's, with the one-object-per-utterance queue)."""
        collector = OneMessageQueueOutputChannel(queue)
        await on_new_message(UserMessage(text, collector, sender_id, input_channel=input_channel, metadata=metadata))
        await queue.put("DONE")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        add_health_route(webhook)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            fields = self._read(request)
            if isinstance(fields, HTTPResponse):
                return fields
            sender, text, metadata = fields["sender"], fields["text"], fields["metadata"]

            limited = rate_limited_text(self.limiter, self.name(), sender, from_texts([text]))
            if limited is not None:
                reply = [{"recipient_id": sender, "text": limited}]
                return response.json(reply, status=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender, self.name(), metadata),
                    content_type="text/event-stream",
                )
            return response.json(await self.handle(on_new_message, text, sender, metadata))

        return webhook

    async def handle(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender: str,
        metadata: Optional[Dict[str, Any]],
    ) -> List[Dict[str, Any]]:
        """The bot's messages for one user message; the service-unavailable text if it failed silently."""
        collector = OneMessageCollectingOutputChannel()
        apology = await handle_or_apologise(
            on_new_message,
            UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata),
            said_something=lambda: bool(collector.messages),
            traditional=from_texts([text]),
            cancelled_is_failure=True,  # Rasa's REST channel answers after a response timeout too
        )
        if apology is not None:
            return [{"recipient_id": sender, "text": apology}]
        return collector.messages
