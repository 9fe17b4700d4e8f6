"""Socket.IO channel for the web chat widget, with working session persistence.

`PersistentSocketIOInput` behaves like Rasa's own `socketio` channel (same events,
same payloads, same credentials keys, mounted under /webhooks/socketio/) with
these differences:

* Session persistence works. Rasa 3.6 calls `sio.enter_room(...)` without
  `await`; with python-socketio 5.x that is a coroutine, so the socket never
  joins the room named after its session and the bot's replies (emitted to that
  room) are lost (RasaHQ/rasa#13027). Here the call is awaited.
* A user message whose socket is not (yet) in its session's room joins it
  first, so a message sent before `session_request` was answered (a client that
  buffers messages while reconnecting) still gets its reply.
* A configured `namespace` is used for replies as well (Rasa emits them to the
  default namespace whatever the setting).
* The widget's static files in the project's web/ folder are served by the
  channel's blueprint: GET /webhooks/socketio/webchat/ (demo page) and
  /webhooks/socketio/webchat/widget.js etc.
* One bot utterance is one `bot_uttered` event {"text", "quick_replies", "custom"}
  (each key only when present): Rasa cuts the text at every blank line and emits
  `custom` apart; the widget renders `custom.structured` in the text's bubble.
* Per-sender rate limit (RATE_LIMIT_PER_MINUTE): over it, the sender gets a
  short friendly text (addons/messages.yml) and the bot is not called.
* A message whose handling fails before the bot said anything gets the
  service-unavailable text instead of silence.
* Session ids pass the sender check every public channel shares: at most 128
  characters, not in WeChat's ``wx-`` namespace (a refused one in
  `session_request` gets a new id; a message carrying one is ignored). The rate
  limit, the failure text and the health route are shared too
  (addons/channels/guard.py).

credentials.yml:

    addons.channels.socketio_channel.PersistentSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      socketio_path: /socket.io

(Do not list Rasa's `socketio` channel as well: both are named `socketio`.)
"""

from __future__ import annotations

import inspect
import json
import logging
import mimetypes
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import rasa.core.channels.channel
import rasa.shared.utils.io
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from addons.channels.guard import (
    InvalidSenderId,
    add_health_route,
    checked_sender_id,
    from_texts,
    handle_or_apologise,
    rate_limited_text,
)
from addons.channels.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
WEBCHAT_ROUTE = "/webchat"

# Only these kinds of file are served from web/; anything else is a 404.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


async def _maybe_await(value: Any) -> Any:
    """Await coroutines (python-socketio >= 5.? made room calls async), pass the rest."""
    if inspect.isawaitable(value):
        return await value
    return value


def resolve_static(web_dir: Path, relative: str) -> Optional[Path]:
    """The file under web_dir that `relative` names, or None (missing, hidden, outside, other type)."""
    relative = relative or "index.html"
    parts = [part for part in relative.replace("\\", "/").split("/") if part]
    if not parts or any(part.startswith(".") for part in parts):
        return None
    root = web_dir.resolve()
    try:
        candidate = root.joinpath(*parts).resolve()
        candidate.relative_to(root)
    except (ValueError, OSError):
        return None
    if not candidate.is_file() or candidate.suffix.lower() not in _CONTENT_TYPES:
        return None
    return candidate


def _quick_reply(button: Dict[Text, Any]) -> Dict[Text, Any]:
    return {"content_type": "text", "title": button.get("title", ""), "payload": button.get("payload", "")}


class PersistentSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, emitting in the channel's namespace, one event per bot utterance."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, namespace: Optional[Text] = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace
        self.sent = 0  # messages emitted (0 after a failure: the user heard nothing)

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Text, quick replies and `custom` of one utterance as ONE event.

        Rasa's base class cuts the text at every blank line and emits `custom` as a
        separate event (through an `emit(**custom)` that fails on a plain payload);
        the widget needs a structured answer together with its text and buttons.
        Images, attachments and elements still follow as events of their own.
        """
        event: Dict[Text, Any] = {}
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            event["text"] = text.strip()
        buttons = message.get("quick_replies") or message.get("buttons")
        if buttons:
            event["quick_replies"] = [_quick_reply(button) for button in buttons]
        if message.get("custom"):
            event["custom"] = message["custom"]
        if event:
            await self._send_message(recipient_id, event)
        if message.get("image"):
            await self.send_image_url(recipient_id, message["image"])
        if message.get("attachment"):
            await self.send_attachment(recipient_id, message["attachment"])
        if message.get("elements"):
            await self.send_elements(recipient_id, message["elements"])

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"custom": json_message})


class PersistentSocketIOInput(SocketIOInput):
    """Rasa's socketio input channel with session persistence fixed and the widget served."""

    # Same name as Rasa's channel: URL prefix /webhooks/socketio/, input_channel "socketio".
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    web_dir: Path = WEB_DIR

    def __init__(self, *args: Any, limiter: Optional[RateLimiter] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limiter = limiter or RateLimiter.from_settings()

    def get_output_channel(self) -> Optional[rasa.core.channels.channel.OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return PersistentSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    # --- socket.io -----------------------------------------------------------

    async def _join_session(self, sio: AsyncServer, sid: Text, session_id: Text) -> None:
        await _maybe_await(sio.enter_room(sid, session_id, namespace=self.namespace))

    def _in_room(self, sio: AsyncServer, sid: Text, room: Text) -> bool:
        try:
            return room in (sio.rooms(sid, namespace=self.namespace) or [])
        except (KeyError, ValueError):
            return False

    @classmethod
    def _session_id_from(cls, data: Any) -> Text:
        """The client's session id when the shared sender check accepts it, else a new one."""
        try:
            return checked_sender_id(data.get("session_id") if isinstance(data, dict) else None, cls.name())
        except InvalidSenderId:
            return uuid.uuid4().hex

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and the widget's files, as one blueprint."""
        # Same server settings as Rasa: CORS is left to Sanic-CORS (`rasa run --cors`).
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        add_health_route(bp)
        self._add_static_routes(bp)

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if self.jwt_key:
                jwt_payload = None
                if auth and auth.get("token"):
                    jwt_payload = rasa.core.channels.channel.decode_bearer_token(
                        auth.get("token"), self.jwt_key, self.jwt_algorithm
                    )
                if not jwt_payload:
                    return False
            logger.debug(f"User {sid} connected to socketIO endpoint.")
            return True

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: Text, *_: Any) -> None:
            logger.debug(f"User {sid} disconnected from socketIO endpoint.")

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Optional[Dict] = None) -> None:
            session_id = self._session_id_from(data)
            if self.session_persistence:
                # The fix: Rasa 3.6 forgets to await this coroutine.
                await self._join_session(sio, sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug(f"User {sid} started a socketIO session.")

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Optional[Dict] = None) -> None:
            if not isinstance(data, dict):
                logger.warning("Ignored a socketIO message whose payload is not an object.")
                return
            output_channel = PersistentSocketIOOutput(sio, self.bot_message_evt, namespace)

            if self.session_persistence:
                try:
                    sender_id = checked_sender_id(data.get("session_id"), self.name())
                except InvalidSenderId:
                    rasa.shared.utils.io.raise_warning(
                        "A message without a valid session_id was received. This message "
                        "will be ignored. Make sure to set a proper session id using the "
                        "`session_request` socketIO event."
                    )
                    return
                if not self._in_room(sio, sid, sender_id):
                    await self._join_session(sio, sid, sender_id)
            else:
                sender_id = sid

            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    logger.warning("Ignored socketIO message metadata that is not JSON.")
                    metadata = {}
            text = data.get("message", "")
            limited = rate_limited_text(self.limiter, self.name(), sender_id, from_texts([str(text)]))
            if limited is not None:
                await output_channel.send_text_message(sender_id, limited)
                return
            message = UserMessage(
                text,
                output_channel,
                sender_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            apology = await handle_or_apologise(
                on_new_message,
                message,
                said_something=lambda: output_channel.sent > 0,
                traditional=from_texts([str(text)]),
            )
            if apology is not None:
                await output_channel.send_text_message(sender_id, apology)

        return bp

    # --- the widget's files --------------------------------------------------

    def _add_static_routes(self, bp: Blueprint) -> None:
        web_dir = self.web_dir

        @bp.route(WEBCHAT_ROUTE, methods=["GET"], strict_slashes=True, name="webchat_redirect")
        async def webchat_redirect(request: Request) -> HTTPResponse:
            # Relative URLs in index.html need the trailing slash.
            return response.redirect(request.path + "/", status=301)

        @bp.route(WEBCHAT_ROUTE + "/", methods=["GET"], strict_slashes=True, name="webchat_index")
        async def webchat_index(_: Request) -> HTTPResponse:
            return await _serve(web_dir, "index.html")

        @bp.route(WEBCHAT_ROUTE + "/<path:path>", methods=["GET"], name="webchat_file")
        async def webchat_file(_: Request, path: str) -> HTTPResponse:
            return await _serve(web_dir, path)


async def _serve(web_dir: Path, relative: str) -> HTTPResponse:
    path = resolve_static(web_dir, relative)
    if path is None:
        return response.text("Not found", status=404)
    suffix = path.suffix.lower()
    content_type = _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {
        "Cache-Control": "no-cache" if suffix == ".html" else "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    return await response.file(path, mime_type=content_type, headers=headers)
