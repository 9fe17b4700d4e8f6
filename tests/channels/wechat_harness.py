"""Harness for the WeChat channel: a real Sanic server on 127.0.0.1 that mounts
the channel the way Rasa does, requests signed (and encrypted) the way WeChat's
servers make them, a scripted bot, and a fake WeChat API server.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import aiohttp
import xmltodict
from aiohttp import web
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

from addons.channels.wechat.cs_client import CustomerServiceClient
from addons.channels.wechat_channel import WeChatInput

TOKEN = "test-token"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-app-secret"
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")  # 43 characters
OPENID = "oUser_0123456789abcdefghijk"
ACCOUNT = "gh_0123456789ab"
WEBHOOK = "/webhooks/wechat/webhook"


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def text_xml(content: str, msg_id: int = 1001, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, create_time: int = 1700000000, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def image_xml(msg_id: int = 2001, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://127.0.0.1/pic.jpg]]></PicUrl><MediaId><![CDATA[media1]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def voice_xml(recognition: str, msg_id: int = 3001, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[media2]]></MediaId><Format><![CDATA[amr]]></Format>"
        f"<Recognition><![CDATA[{recognition}]]></Recognition><MsgId>{msg_id}</MsgId></xml>"
    )


class ScriptedBot:
    """Stands in for Rasa's agent: records calls, answers through the output channel."""

    def __init__(
        self,
        answer: Optional[Callable[[str], List[Dict[str, Any]]]] = None,
        delay: float = 0.0,
    ) -> None:
        self.answer = answer or (lambda text: [{"text": f"收到：{text}"}])
        self.delay = delay
        self.calls: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.calls.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for reply in self.answer(message.text):
            await message.output_channel.send_response(message.sender_id, dict(reply))

    @property
    def texts(self) -> List[str]:
        return [call.text for call in self.calls]


@dataclass
class FakeWeChatApi:
    """Speaks the JSON of /cgi-bin/token and /cgi-bin/message/custom/send."""

    reject_first_send_with: Optional[int] = None  # e.g. 40001 or 45015
    tokens_issued: List[str] = field(default_factory=list)
    sent: List[Dict[str, Any]] = field(default_factory=list)
    send_tokens: List[str] = field(default_factory=list)
    revoked: set = field(default_factory=set)
    base_url: str = ""

    async def token(self, request: web.Request) -> web.Response:
        query = request.query
        if (query.get("grant_type"), query.get("appid"), query.get("secret")) != (
            "client_credential",
            APP_ID,
            APP_SECRET,
        ):
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        token = f"ACCESS_TOKEN_{len(self.tokens_issued) + 1}"
        self.tokens_issued.append(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        self.send_tokens.append(token)
        if token not in self.tokens_issued or token in self.revoked:
            return web.json_response(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            )
        if self.reject_first_send_with is not None:
            code, self.reject_first_send_with = self.reject_first_send_with, None
            if code == 40001:
                self.revoked.add(token)
            return web.json_response({"errcode": code, "errmsg": "rejected by the fake"})
        self.sent.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wait_for_sent(self, count: int, timeout: float = 5.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.sent


@asynccontextmanager
async def fake_wechat_api(**options: Any) -> AsyncIterator[FakeWeChatApi]:
    api = FakeWeChatApi(**options)
    app = web.Application()
    app.router.add_get("/cgi-bin/token", api.token)
    app.router.add_post("/cgi-bin/message/custom/send", api.send)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api.base_url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        await runner.cleanup()


@dataclass
class WeChatSide:
    """Makes requests the way WeChat's servers do."""

    session: aiohttp.ClientSession
    base_url: str
    safe_mode: bool

    def query(self, timestamp: Optional[int] = None, nonce: Optional[str] = None, **extra: str) -> Dict[str, str]:
        timestamp_text = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or uuid.uuid4().hex[:10]
        params = {"signature": sign(TOKEN, timestamp_text, nonce), "timestamp": timestamp_text, "nonce": nonce}
        params.update(extra)
        return params

    async def verify(self, echostr: str, **query: str) -> aiohttp.ClientResponse:
        params = self.query()
        params.update(query)
        params["echostr"] = echostr
        async with self.session.get(self.base_url + WEBHOOK, params=params) as reply:
            await reply.read()
            return reply

    async def post(
        self,
        xml: str,
        params: Optional[Dict[str, str]] = None,
        raw_body: Optional[bytes] = None,
    ) -> tuple[int, str, Dict[str, str]]:
        """POST a message (encrypted in safe mode); returns status, body, query used."""
        params = dict(params) if params is not None else self.query()
        body = raw_body if raw_body is not None else xml.encode("utf-8")
        if self.safe_mode and raw_body is None:
            encrypt = PrpCrypto(base64.b64decode(AES_KEY + "=")).encrypt(xml, APP_ID).decode()
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            ).encode()
            params.setdefault("encrypt_type", "aes")
            params.setdefault("msg_signature", sign(TOKEN, params["timestamp"], params["nonce"], encrypt))
        async with self.session.post(
            self.base_url + WEBHOOK, params=params, data=body, headers={"Content-Type": "text/xml"}
        ) as reply:
            return reply.status, await reply.text(), params

    def read_reply(self, body: str, params: Dict[str, str]) -> Dict[str, Any]:
        """The passive reply as a dict (decrypted and signature-checked in safe mode)."""
        if self.safe_mode:
            outer = xmltodict.parse(body)["xml"]
            crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
            body = crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xmltodict.parse(body)["xml"]


def make_channel(api: Optional[FakeWeChatApi] = None, safe_mode: bool = False, **options: Any) -> WeChatInput:
    cs_client = CustomerServiceClient(APP_ID, APP_SECRET, base_url=api.base_url) if api else None
    return WeChatInput(
        token=TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        aes_key=AES_KEY if safe_mode else "",
        cs_client=cs_client,
        **options,
    )


@asynccontextmanager
async def serve_channel(channel: WeChatInput, bot: Callable[[UserMessage], Any]) -> AsyncIterator[WeChatSide]:
    """Run the channel in a Sanic app on a free port, mounted as `rasa run` mounts it."""
    app = Sanic(f"wechat_test_{uuid.uuid4().hex}")
    app.ctx.agent = SimpleNamespace(handle_message=bot)
    register([channel], app, route="/webhooks/")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            yield WeChatSide(session, f"http://127.0.0.1:{port}", channel.safe_mode)
    finally:
        await server.before_stop()
        for connection in list(server.connections):
            connection.close_if_idle()
        await server.close()
        await server.after_stop()


def run(coroutine: Any, timeout: float = 30.0) -> Any:
    """Run one scenario on a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))
