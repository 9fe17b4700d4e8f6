"""Harness for the socket.io channel: a real Sanic server on 127.0.0.1 that mounts
the channel the way `rasa run` does, and a scripted bot in place of Rasa's agent.

`serve_channel` runs in the caller's event loop (for python-socketio clients);
`BackgroundServer` runs the same in a thread (for a browser driven from sync code).
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import uuid
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Union

from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage, register
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic

# Several apps in one process: without test mode Sanic's start-up "touch-up" rewrites
# its own functions again for the second app and fails (KeyError: 'connection_task').
Sanic.test_mode = True

CREDENTIALS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
    "socketio_path": "/socket.io",
}

CITATION = "《刑法》第二百四十五条"
QUESTION_ANSWER = (
    "催收人员未经你同意进入或赖在你家不走，可能构成非法侵入住宅。\n"
    "你可以：\n1. 明确要求对方离开；\n2. 拒不离开的，立即拨打 110 报警。"
    "\n\n"
    f"法律依据：{CITATION}：非法侵入他人住宅的，处三年以下有期徒刑或者拘役。"
)
QUICK_REPLIES = [
    {"title": "怎么投诉催收", "payload": "/ask_complaint"},
    {"title": "会不会坐牢", "payload": "/ask_criminal_risk"},
]
PAYLOAD_ANSWERS = {
    "/ask_complaint": "可以向贷款机构的客服投诉，也可以拨打 12378（银行保险消费者投诉热线）。",
    "/ask_criminal_risk": "单纯欠钱还不上不是犯罪；恶意透支、诈骗才可能涉及刑事责任。",
}

# Structured answers (custom.structured, version 1), as the action server will send them.
ADVICE_TEXT = (
    "催收人员未经你同意不能进你家；赖着不走的，可以报警。\n现在可以这样做：\n1. 隔着门沟通，不必开门\n"
    "2. 明确要求对方离开\n3. 拒不离开的，拨打110\n法律依据：《刑法》第二百四十五条"
)
ADVICE_BUTTONS = [{"title": "查看法律依据", "payload": "/ask_legal_basis"}]
ADVICE_ALSO = [{"title": "你还提到：家人被联系", "payload": "/ask_third_party_contact"}]
SOFT_LAW_CITATION = "《金融机构个人消费类贷款催收工作指引（试行）》"
STRUCTURED_ADVICE: Dict[str, Any] = {
    "v": 1,
    "kind": "advice",
    "answer": "催收人员未经你同意不能进你家；赖着不走的，可以报警。",
    "notes": ["上门时你可以不开门，隔着门或打电话沟通就行。"],
    "steps": ["隔着门沟通，不必开门", "明确要求对方离开，并录音录像", "拒不离开的，立即拨打110"],
    "basis": [
        {
            "citation": CITATION,
            "quote": "非法搜查他人身体、住宅，或者非法侵入他人住宅的，处三年以下有期徒刑或者拘役。",
            "paraphrase": False,
            "soft_law": False,
        },
        {
            "citation": "《宪法》第三十九条",
            "quote": "公民的住宅不受侵犯，不能非法闯入。",
            "paraphrase": True,
            "soft_law": False,
        },
        {
            "citation": SOFT_LAW_CITATION,
            "quote": "未经同意不得进入住宅或办公场所",
            "paraphrase": True,
            "soft_law": True,
        },
    ],
    "help": [
        {"name": "报警", "contact": "110", "tel": "110"},
        {"name": "金融监管总局投诉热线", "contact": "12378", "tel": "12378"},
        {"name": "银行官方客服", "contact": "卡背面或官方App里的客服电话", "tel": None},
    ],
    "disclaimer": "以上是法律信息，不是律师意见；需要律师帮助可拨12348。",
    "also": ADVICE_ALSO,
}
DOCUMENT_BODY = (
    "协商还款申请书\n\n招商银行信用卡中心：\n\n本人【姓名】，信用卡尾号【0000】，因失业收入下降，"
    "暂时无法按期足额还款。现申请个性化分期：分60期偿还欠款本金，并减免逾期期间的违约金和利息。\n\n"
    "本人愿意积极还款，恳请贵中心予以考虑。\n\n申请人：【姓名】\n日期：【年月日】"
)
STRUCTURED_DOCUMENT: Dict[str, Any] = {
    "v": 1,
    "kind": "document",
    "answer": "协商还款申请书已经写好，填上【】里的内容后发给银行。",
    "document": {"title": "协商还款申请书", "body": DOCUMENT_BODY, "filename": "协商还款申请书.txt"},
    "notes": ["寄出前自己留一份，通话时录音。"],
    "disclaimer": "以上是法律信息，不是律师意见；需要律师帮助可拨12348。",
}
HTML = '<img src=x onerror="window.__xss=1">'
STRUCTURED_HOSTILE: Dict[str, Any] = {
    "v": 1,
    "kind": "advice",
    "answer": HTML + "答案",
    "notes": ["<b>不是粗体</b>"],
    "steps": ['<a href="javascript:window.__xss=2">步骤</a>'],
    "basis": [{"citation": "<i>条文</i>", "quote": HTML + "引文", "paraphrase": False, "soft_law": False}],
    "help": [{"name": "<u>热线</u>", "contact": "12378", "tel": "javascript:window.__xss=3"}],
    "document": {"title": "<h1>标题</h1>", "body": HTML + "正文", "filename": "../../<evil>.exe"},
    "disclaimer": "<script>window.__xss=4</script>",
}
STRUCTURED_TRADITIONAL: Dict[str, Any] = {
    "v": 1,
    "kind": "advice",
    "answer": "催收人員未經你同意不能進你家。",
    "steps": ["明確要求對方離開", "拒不離開的，撥打110"],
    "basis": [
        {
            "citation": "《刑法》第二百四十五條",
            "quote": "非法侵入他人住宅的，處三年以下有期徒刑或者拘役。",
            "paraphrase": False,
            "soft_law": False,
        }
    ],
}

# What an action's dispatcher.utter_message(...) calls produce, per scripted payload.
Utterance = Dict[str, Any]
STRUCTURED_REPLIES: Dict[str, List[Utterance]] = {
    "/structured_advice": [
        {"text": ADVICE_TEXT, "buttons": ADVICE_BUTTONS, "json_message": {"structured": STRUCTURED_ADVICE}}
    ],
    "/structured_document": [{"text": DOCUMENT_BODY, "json_message": {"structured": STRUCTURED_DOCUMENT}}],
    "/structured_hostile": [{"text": "纯文本", "json_message": {"structured": STRUCTURED_HOSTILE}}],
    "/structured_traditional": [
        {"text": "催收人員未經你同意不能進你家。", "json_message": {"structured": STRUCTURED_TRADITIONAL}}
    ],
    "/structured_future": [
        {
            "text": "新版本的结构化回答，旧组件只显示文字。",
            "json_message": {"structured": {"v": 2, "kind": "advice", "answer": "看不懂的版本"}},
        }
    ],
    "/custom_only": [{"json_message": {"structured": STRUCTURED_DOCUMENT}}],
}


async def utter(output: OutputChannel, recipient_id: str, utterances: List[Utterance]) -> None:
    """Send what `dispatcher.utter_message(**u)` calls produce along Rasa's own path.

    rasa_sdk's dispatcher makes the action server's response, Rasa's RemoteAction
    turns it into BotUttered events, and the processor hands each event's message()
    to the output channel's send_response, as here.
    """
    dispatcher = CollectingDispatcher()
    for utterance in utterances:
        dispatcher.utter_message(**utterance)
    responses = copy.deepcopy(dispatcher.messages)  # (they travel as JSON)
    for event in await RemoteAction._utter_responses(responses, output, None, None):  # type: ignore[arg-type]
        await output.send_response(recipient_id, event.message())


class ScriptedBot:
    """Stands in for Rasa's agent: records every message, answers deterministically.

    Every answer goes out the way Rasa sends an action's utterances (see `utter`).
    Free text gets QUESTION_ANSWER with the two QUICK_REPLIES; a quick-reply payload
    gets its PAYLOAD_ANSWERS; the STRUCTURED_REPLIES payloads get structured answers;
    `extra` maps further exact texts to answers (a text, or a list of utterances).
    """

    def __init__(self, delay: float = 0.0, extra: Optional[Dict[str, Union[str, List[Utterance]]]] = None) -> None:
        self.delay = delay
        self.answers: Dict[str, Union[str, List[Utterance]]] = dict(PAYLOAD_ANSWERS, **STRUCTURED_REPLIES)
        self.answers.update(extra or {})
        self.calls: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.calls.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        text = message.text or ""
        answer = self.answers.get(text)
        if answer is None:
            unknown = [{"text": f"未知的按钮：{text}"}]
            answer = unknown if text.startswith("/") else [{"text": QUESTION_ANSWER, "buttons": QUICK_REPLIES}]
        elif isinstance(answer, str):
            answer = [{"text": answer}]
        await utter(message.output_channel, message.sender_id, answer)

    @property
    def sender_ids(self) -> List[str]:
        return [call.sender_id for call in self.calls]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_channel(channel: InputChannel, bot: Callable[[UserMessage], Any]) -> AsyncIterator[str]:
    """Run the channel in a Sanic app on a free port, mounted as `rasa run` mounts it.

    Yields the base URL (http://127.0.0.1:PORT).
    """
    app = Sanic(f"socketio_test_{uuid.uuid4().hex}")
    app.ctx.agent = SimpleNamespace(handle_message=bot)
    register([channel], app, route="/webhooks/")
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()  # (create_server has already started listening)
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        for connection in list(server.connections):
            connection.close_if_idle()
        await server.close()
        await server.after_stop()


class BackgroundServer:
    """`serve_channel` in a daemon thread with its own event loop."""

    def __init__(self, channel: InputChannel, bot: Callable[[UserMessage], Any]) -> None:
        self.channel = channel
        self.bot = bot
        self.base_url = ""
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="socketio-test-server", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve_channel(self.channel, self.bot) as base_url:
            self.base_url = base_url
            self._ready.set()
            await self._stop.wait()

    def start(self, timeout: float = 20.0) -> "BackgroundServer":
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the test server did not start in time")
        if self._error is not None:
            raise RuntimeError(f"the test server failed to start: {self._error!r}") from self._error
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def run(coroutine: Any, timeout: float = 30.0) -> Any:
    """Run one scenario on a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def make_credentials(**overrides: Any) -> Dict[str, Any]:
    credentials = dict(CREDENTIALS)
    credentials.update(overrides)
    return credentials
