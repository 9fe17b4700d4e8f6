"""WeChat Official Account (公众号) input channel for Rasa.

Mounted by Rasa at ``/webhooks/wechat/webhook`` when credentials.yml names
``addons.channels.wechat_channel.WeChatInput``. Plaintext mode when no ``aes_key`` is
set, safe mode (AES, ``msg_signature``) otherwise.

Per request: signature and timestamp checked, body at most 64 KB, nonce not
replayed with another body, XML parsed by wechatpy (entities refused). Text
(or recognised voice) goes to the bot once per MsgId; an answer ready within
``reply_timeout`` seconds is the passive reply, a later one is pushed through
the customer-service API after a ``success`` reply.

Shared with the REST and socket.io channels (addons/channels/guard.py): the
sender check on FromUserName, the rate limit (a user over
RATE_LIMIT_PER_MINUTE gets the friendly text instead of the bot; a WeChat retry
of the same MsgId does not count again), the service-unavailable text when the
bot fails, and the health route. Every text the channel shows by itself is in
addons/messages.yml, in Traditional for a user who writes Traditional.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import SubscribeEvent, SubscribeScanEvent
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import TextMessage, VoiceMessage
from wechatpy.replies import create_reply

from addons.channels.guard import add_health_route, checked_sender_id, handle_or_apologise, rate_limited_text
from addons.channels.rate_limit import RateLimiter
from addons.channels.wechat.answers import BotAnswer, render_answer
from addons.channels.wechat.cs_client import DEFAULT_API_BASE_URL, CustomerServiceClient
from addons.channels.wechat.identity import sender_id_for
from addons.channels.wechat.inflight import InflightAnswers
from addons.channels.wechat.menus import MenuMemory
from addons.channels.wechat.request_guard import ReplayGuard, read_body_limited, signature_valid
from addons.channels.wechat.ttl_cache import TTLCache
from addons.channels.wechat.user_script import ScriptMemory
from addons.messages import NOT_TEXT, VOICE_NOT_RECOGNISED, message_in_script

logger = logging.getLogger(__name__)

WELCOME_PAYLOAD = "/greet"
DEFAULT_REPLY_TIMEOUT = 4.5  # WeChat gives up after 5 s
OPENID_TTL_SECONDS = 48 * 3600  # the customer-service window
SUCCESS = "success"

_WECHAT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # openids and account ids
_ECHOSTR = re.compile(r"^[A-Za-z0-9_+/=-]{1,256}$")


class WeChatOutput(CollectingOutputChannel):
    """Collects the bot's messages of one turn; the webhook sends them.

    A `custom` payload (the web widget's structured answer) is collected as a
    message of its own and never sent: render_answer shows texts, buttons and
    image/attachment URLs only, so the user gets the utterance's text.
    """

    @classmethod
    def name(cls) -> Text:
        return "wechat"


def _configured(value: Any) -> str:
    """A credentials value, or "" when absent, empty or an unexpanded ``${VAR}``."""
    if value is None:
        return ""
    text = str(value).strip()
    return "" if "${" in text else text


def _env_fallback() -> Dict[str, Any]:
    """WeChat values from addons/settings.py, the one module reading the environment."""
    try:
        from addons.settings import load_settings

        settings = load_settings()
    except Exception:  # settings unavailable: credentials only
        return {}
    names = ("token", "app_id", "app_secret", "aes_key", "api_base_url", "reply_timeout")
    return {name: getattr(settings, f"wechat_{name}", None) for name in names}


class WeChatInput(InputChannel):
    """Webhook of a WeChat Official Account (公众号)."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        credentials = credentials or {}
        env = _env_fallback()

        def pick(key: str) -> str:
            return _configured(credentials.get(key)) or _configured(env.get(key))

        timeout = pick("reply_timeout")
        try:
            reply_timeout = float(timeout) if timeout else DEFAULT_REPLY_TIMEOUT
        except ValueError:
            logger.warning("WeChat reply_timeout %r is not a number: using %s s", timeout, DEFAULT_REPLY_TIMEOUT)
            reply_timeout = DEFAULT_REPLY_TIMEOUT
        return cls(
            token=pick("token"),
            app_id=pick("app_id"),
            app_secret=pick("app_secret"),
            aes_key=pick("aes_key"),
            api_base_url=pick("api_base_url") or DEFAULT_API_BASE_URL,
            reply_timeout=reply_timeout,
        )

    def __init__(
        self,
        token: str,
        app_id: str = "",
        app_secret: str = "",
        aes_key: str = "",
        api_base_url: str = DEFAULT_API_BASE_URL,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
        cs_client: Optional[CustomerServiceClient] = None,
        limiter: Optional[RateLimiter] = None,
    ) -> None:
        self.token = token or ""
        self.limiter = limiter or RateLimiter.from_settings()
        self.app_id = app_id or ""
        self.reply_timeout = min(max(float(reply_timeout), 0.0), 4.8)
        self._sender_key = app_secret or self.token
        self._crypto: Optional[WeChatCrypto] = None
        if aes_key:
            if not self.app_id:
                raise ValueError("WeChat safe mode (aes_key) needs app_id as well")
            try:
                self._crypto = WeChatCrypto(self.token, aes_key, self.app_id)
            except (AssertionError, ValueError, TypeError):
                raise ValueError("WeChat aes_key must be the 43-character EncodingAESKey") from None
        if cs_client is None and self.app_id and app_secret:
            cs_client = CustomerServiceClient(self.app_id, app_secret, base_url=api_base_url)
        self._cs = cs_client
        if not self.token:
            logger.warning("WeChat channel has no token: every webhook request is refused (403)")
        if self._cs is None:
            logger.warning("WeChat channel has no app_id/app_secret: late answers cannot be pushed")
        self._guard = ReplayGuard()
        self._inflight: InflightAnswers = InflightAnswers()
        self._menus = MenuMemory()
        self._openids = TTLCache(ttl=OPENID_TTL_SECONDS, max_items=100_000)
        self._scripts = ScriptMemory(ttl=OPENID_TTL_SECONDS)
        self._background: Set["asyncio.Task[Any]"] = set()

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)

        add_health_route(webhook)

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._verify_url(request)

        async def receive(request: Request) -> HTTPResponse:
            try:
                return await self._receive(request, on_new_message)
            except Exception:  # never a 500: WeChat would retry and show an error
                logger.exception("WeChat webhook failed; answered success")
                return response.text(SUCCESS)

        webhook.add_route(receive, "/webhook", methods=["POST"], stream=True)

        @webhook.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            if self._cs is not None:
                await self._cs.close()

        return webhook

    # --- request checks -------------------------------------------------

    def _authentic(self, request: Request) -> bool:
        args = request.args
        timestamp = args.get("timestamp", "")
        return signature_valid(
            self.token, args.get("signature", ""), timestamp, args.get("nonce", "")
        ) and self._guard.timestamp_fresh(timestamp)

    def _verify_url(self, request: Request) -> HTTPResponse:
        if not self._authentic(request):
            logger.warning("WeChat URL verification refused: bad or missing signature")
            return response.text("forbidden", status=403)
        echostr = request.args.get("echostr", "")
        if not _ECHOSTR.match(echostr):
            return response.text("bad request", status=400)
        return response.text(echostr)

    async def _read_message(self, request: Request) -> Any:
        """The parsed message, or an HTTP error response."""
        if not self._authentic(request):
            logger.warning("WeChat message refused: bad, missing or stale signature")
            return response.text("forbidden", status=403)
        args = request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        msg_signature = args.get("msg_signature", "")
        if self.safe_mode and not msg_signature:
            logger.warning("WeChat message refused: safe mode needs msg_signature")
            return response.text("forbidden", status=403)
        body = await read_body_limited(request)
        if body is None:
            logger.warning("WeChat message refused: body over 64 KB")
            return response.text("bad request", status=400)
        try:
            xml = self._crypto.decrypt_message(body, msg_signature, timestamp, nonce) if self._crypto else body
        except (InvalidSignatureException, InvalidAppIdException):
            logger.warning("WeChat message refused: bad msg_signature or app id")
            return response.text("forbidden", status=403)
        except Exception as error:  # ValueError, ExpatError, struct.error, KeyError...
            logger.warning("WeChat message refused: undecryptable body (%s)", type(error).__name__)
            return response.text("bad request", status=400)
        if not self._guard.nonce_accepted(nonce, timestamp, body):
            logger.warning("WeChat message refused: nonce replayed with another body")
            return response.text("forbidden", status=403)
        try:
            message = parse_message(xml)
            _check_ids(message)
        except Exception as error:  # ValueError (entities), ExpatError, KeyError, TypeError...
            logger.warning("WeChat message refused: malformed XML (%s)", type(error).__name__)
            return response.text("bad request", status=400)
        return message

    # --- answering --------------------------------------------------------

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        started = time.monotonic()
        message = await self._read_message(request)
        if isinstance(message, HTTPResponse):
            return message
        text = self._user_text(message)
        if text is None:
            return response.text(SUCCESS)
        openid = message.source
        sender_id = sender_id_for(openid, self._sender_key)
        if isinstance(text, _FixedReply):
            return self._passive(request, message, message_in_script(text.key, self._scripts.traditional(sender_id)))

        self._openids.set(sender_id, openid)
        self._scripts.note(sender_id, text)
        key = f"msg:{message.id}" if message.id else f"evt:{openid}:{message.time}"

        pending, _ = self._inflight.get_or_start(
            key,
            lambda: self._bot_turn(on_new_message, sender_id, text, str(message.id or "") or None),
            lambda answer: self._push_later(sender_id, answer.pieces),
        )
        remaining = self.reply_timeout - (time.monotonic() - started)
        answer, first = await pending.claim(remaining)
        if answer is None or not answer.pieces:
            return response.text(SUCCESS)
        if first and len(answer.pieces) > 1:
            self._push_later(sender_id, answer.pieces[1:])
        return self._passive(request, message, answer.pieces[0])

    def _user_text(self, message: Any) -> Any:
        """What goes to the bot; a ``_FixedReply``; or None for no reply at all."""
        if isinstance(message, TextMessage):
            content = message.content
            return content if isinstance(content, str) and content.strip() else _FixedReply(NOT_TEXT)
        if isinstance(message, VoiceMessage):
            recognition = message.recognition
            if isinstance(recognition, str) and recognition.strip():
                return recognition
            return _FixedReply(VOICE_NOT_RECOGNISED)
        if isinstance(message, (SubscribeEvent, SubscribeScanEvent)):
            return WELCOME_PAYLOAD
        if message.type == "event":  # unsubscribe, menu clicks, location reports...
            return None
        return _FixedReply(NOT_TEXT)  # image, video, link, location, sticker...

    async def _bot_turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender_id: str,
        text: str,
        message_id: Optional[str],
    ) -> BotAnswer:
        def traditional() -> bool:  # the user's script (this text's, or their earlier texts' when it has none)
            return self._scripts.traditional(sender_id)

        # Once per MsgId: WeChat's retries share this turn, so they do not count again.
        limited = rate_limited_text(self.limiter, self.name(), sender_id, traditional)
        if limited is not None:
            return BotAnswer([limited])
        to_bot = self._menus.resolve(sender_id, text)
        collector = WeChatOutput()
        apology = await handle_or_apologise(
            on_new_message,
            UserMessage(to_bot, collector, sender_id, input_channel=self.name(), message_id=message_id),
            said_something=lambda: bool(collector.messages),  # what the bot said before failing is sent
            traditional=traditional,
        )
        if apology is not None:
            return BotAnswer([apology])
        answer, payloads = render_answer(collector.messages, traditional())
        self._menus.remember(sender_id, payloads)
        return answer

    def _passive(self, request: Request, message: Any, text: str) -> HTTPResponse:
        xml = create_reply(text, message=message, render=True)
        if self._crypto is not None:
            xml = self._crypto.encrypt_message(xml, request.args.get("nonce", ""))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    def _push_later(self, sender_id: str, pieces: List[str]) -> None:
        if not pieces:
            return
        task = asyncio.ensure_future(self._push(sender_id, pieces))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _push(self, sender_id: str, pieces: List[str]) -> None:
        openid = self._openids.get(sender_id)
        if self._cs is None or openid is None:
            logger.warning("WeChat: %d answer piece(s) for %s could not be pushed", len(pieces), sender_id)
            return
        for piece in pieces:
            if not await self._cs.send_text(openid, piece):
                return


def _check_ids(message: Any) -> None:
    """Raise ValueError unless sender, recipient, MsgId and CreateTime are usable."""
    if message is None:
        raise ValueError("empty message")
    checked_sender_id(message.source, WeChatInput.name(), allowed=_WECHAT_ID)  # InvalidSenderId is a ValueError
    if not _WECHAT_ID.fullmatch(str(message.target or "")):
        raise ValueError("odd ToUserName")
    if not isinstance(message.id, int) or not isinstance(message.time, int):
        raise ValueError("odd MsgId or CreateTime")  # the field accessors raise first


@dataclass(frozen=True)
class _FixedReply:
    """A reply the channel gives itself, without the bot: a key of addons/messages.yml."""

    key: str
