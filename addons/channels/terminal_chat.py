"""Chat with the trained assistant in a terminal; typed text is never swallowed by a menu.

Usage: python -m addons.channels.terminal_chat --model models/debt-rights.tar.gz --endpoints endpoints.yml
(`make chat` starts it through scripts/with_action_server.py, which runs the action server.)

The Rasa agent runs in this process with endpoints.yml, so the conversation goes
through the project's tracker store (redacted) like any other channel. Buttons
are shown as numbered options: typing just a number 1..N picks one, anything
else is sent as typed. Input history lives in memory only (people type ID and
phone numbers here), and nothing is printed that identifies the conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import shutil
import sys
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
INPUT_CHANNEL = "terminal"
SENDER_PREFIX = "terminal-"
PROMPT = "你："

LOADING = "正在加载助手…"
READY = "助手已就绪。直接输入你的问题；有编号选项时输入编号或直接打字都可以。/help 查看命令。"
HELP = """\
命令：
  /help      显示这段说明
  /restart   重新开始对话（之前填的信息不再使用）
  /exit      退出（也可以用 /quit、Ctrl-D，或连按两次 Ctrl-C）
带编号的选项（如 [1] [2]）：输入编号就等于点那个选项；也可以不管选项，直接打字回答。"""
RESTARTED = "（对话已重新开始）"
INTERRUPT_HINT = "（再按一次 Ctrl-C 或按 Ctrl-D 退出）"
GOODBYE = "再见。"
NO_REPLY = "（出错了，助手这次没有回答。请再试一次，或输入 /restart 重新开始。）"
LOAD_FAILED = "无法加载模型 {model}：请先运行 `make train`。"
NO_ENDPOINTS = "找不到 {endpoints}（Rasa 的 endpoints 配置文件）。"

EXIT_COMMANDS = ("/exit", "/quit")
RESTART_COMMAND = "/restart"
HELP_COMMAND = "/help"

_CHOICE = re.compile(r"[1-9][0-9]*")
_OPTION_GAP = "   "

# Dependency warnings that say nothing to someone chatting: (category, module regex).
# The project's own modules (addons.*, actions.*) are not listed, so theirs stay visible.
_DEPENDENCY_WARNINGS: Tuple[Tuple[type, str], ...] = (
    (DeprecationWarning, r"(tensorflow|keras|jax|tensorboard|absl|flatbuffers|google\.protobuf)(\..*)?$"),
    (DeprecationWarning, r"(sqlalchemy|sanic|sanic_cors|aiohttp|apscheduler|pkg_resources)(\..*)?$"),
    (DeprecationWarning, r"(rasa|rasa_sdk|typer|click|spacy|thinc|matplotlib|pydot|networkx)(\..*)?$"),
    # `load_module()` of an import hook: reported against the import machinery itself.
    (DeprecationWarning, r"importlib\._bootstrap$"),
    # pyparsing's own deprecation class derives from UserWarning.
    (UserWarning, r"(matplotlib|packaging)(\..*)?$"),
    (FutureWarning, r"(tensorflow|keras|rasa|sklearn|numpy)(\..*)?$"),
    # "Slot auto-fill has been removed in 3.0": Rasa says it on every load, whatever the domain.
    (UserWarning, r"rasa\.shared\.core\.slot_mappings$"),
    # Rasa's warnings raised without a category point at its own helper (e.g. "no model"; the chat
    # says that itself). Problems in the project's data are for `rasa data validate`, not the chat.
    (UserWarning, r"rasa\.shared\.utils\.io$"),
)
_DEPENDENCY_LOGGERS = (
    "rasa",
    "rasa_sdk",
    "tensorflow",
    "absl",
    "h5py",
    "sqlalchemy",
    "jieba",
    "apscheduler",
    "asyncio",
    "urllib3",
    "matplotlib",
    "sanic",
    "root.sanic",
)


class _AtLeast(logging.Filter):
    """Drops records below a level on the logger itself (jieba resets its level when imported)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def configure_output(verbose: bool = False) -> None:
    """Dependency warnings off, Rasa's logs at ERROR (all kept when verbose); call before Rasa is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    if not verbose:
        # Importing Sanic (Rasa does) puts filterwarnings("once", DeprecationWarning) before all
        # filters: import it first so that the filters below come before that one.
        import sanic  # noqa: F401

        for category, module in _DEPENDENCY_WARNINGS:
            warnings.filterwarnings("ignore", category=category, module=module)
        for name in _DEPENDENCY_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.ERROR)
            logger.addFilter(_AtLeast(logging.ERROR))
    # A root handler before the tracker store is created: the store puts its redaction filter on it.
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from rasa.utils.log_utils import configure_structlog

    # Unconfigured, Rasa's structured logs print every debug event (with user text) to stdout.
    configure_structlog(logging.INFO if verbose else logging.ERROR)


def choice_index(typed: str, option_count: int) -> Optional[int]:
    """0-based option when `typed` is just a number 1..option_count (full-width digits too)."""
    number = unicodedata.normalize("NFKC", typed).strip()
    if not _CHOICE.fullmatch(number) or int(number) > option_count:
        return None
    return int(number) - 1


def outgoing(typed: str, buttons: Sequence[Dict[str, Any]]) -> Tuple[str, Optional[str]]:
    """(text to send, title of the chosen button or None) for a typed line."""
    index = choice_index(typed, len(buttons))
    if index is None:
        return typed, None
    button = buttons[index]
    title = str(button.get("title") or "")
    return str(button.get("payload") or title), title


def command_of(typed: str) -> Optional[str]:
    """The chat command typed (`/help`, `/restart`, `/exit`...), or None for a message."""
    word = unicodedata.normalize("NFKC", typed).strip().lower()
    if word in (HELP_COMMAND, RESTART_COMMAND, *EXIT_COMMANDS):
        return word
    return None


def _width(text: str) -> int:
    from prompt_toolkit.utils import get_cwidth

    return get_cwidth(text)


def option_lines(buttons: Sequence[Dict[str, Any]], columns: int) -> List[str]:
    """`  [1] 标题   [2] 标题` wrapped to the terminal width (Chinese characters count double)."""
    lines: List[str] = []
    current = ""
    for number, button in enumerate(buttons, start=1):
        item = f"[{number}] {button.get('title') or button.get('payload') or ''}"
        candidate = f"{current}{_OPTION_GAP}{item}" if current else f"  {item}"
        if current and _width(candidate) > columns:
            lines.append(current)
            candidate = f"  {item}"
        current = candidate
    if current:
        lines.append(current)
    return lines


def message_lines(message: Dict[str, Any], columns: int) -> List[str]:
    """A bot message as terminal lines: its text, then numbered buttons. `custom` is for the web widget."""
    lines: List[str] = []
    if message.get("text"):
        lines.extend(str(message["text"]).splitlines() or [""])
    if message.get("image"):
        lines.append(f"[图片] {message['image']}")
    lines.extend(option_lines(message.get("buttons") or [], columns))
    return lines


def latest_buttons(messages: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Buttons of the last message of a reply that has any (the numbers shown nearest the prompt)."""
    for message in reversed(messages):
        if message.get("buttons"):
            return list(message["buttons"])
    return []


class TerminalChat:
    """One conversation: sends typed lines to the agent and prints the replies."""

    def __init__(self, agent: Any, sender_id: str, write: Callable[[str], None] = print) -> None:
        self.agent = agent
        self.sender_id = sender_id
        self.write = write
        self.buttons: List[Dict[str, Any]] = []

    async def send(self, text: str) -> List[Dict[str, Any]]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        output = CollectingOutputChannel()
        message = UserMessage(text, output, self.sender_id, input_channel=INPUT_CHANNEL)
        await self.agent.handle_message(message)
        return output.messages

    def show(self, messages: Sequence[Dict[str, Any]]) -> None:
        columns = shutil.get_terminal_size().columns
        for message in messages:
            for line in message_lines(message, columns):
                self.write(line)
        self.buttons = latest_buttons(messages)

    async def say(self, text: str) -> None:
        try:
            replies = await self.send(text)
        except Exception:  # one failed turn must not end the chat; Rasa has logged the cause
            logging.getLogger(__name__).exception("The assistant failed to answer")
            self.write(NO_REPLY)
            return
        self.show(replies)

    async def handle(self, typed: str) -> bool:
        """Act on one typed line; False when the user wants to leave."""
        if not typed.strip():
            return True
        command = command_of(typed)
        if command in EXIT_COMMANDS:
            return False
        if command == HELP_COMMAND:
            self.write(HELP)
            return True
        if command == RESTART_COMMAND:
            await self.say(RESTART_COMMAND)
            self.write(RESTARTED)
        else:
            text, title = outgoing(typed, self.buttons)
            if title is not None:
                self.write(f"→ {title}")
            await self.say(text)
        self.write("")  # a blank line between one turn and the next
        return True


async def prompt_loop(chat: TerminalChat) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory

    session: PromptSession = PromptSession(history=InMemoryHistory())  # never a file: IDs and phones
    interrupted = False
    while True:
        try:
            typed = await session.prompt_async(PROMPT)
        except KeyboardInterrupt:  # the line is dropped (its text stays in the buffer until the next prompt)
            if interrupted and not session.default_buffer.text:
                return
            if not interrupted:
                chat.write(INTERRUPT_HINT)
            interrupted = True
            continue
        except EOFError:
            return
        interrupted = False
        if not await chat.handle(typed):
            return


async def piped_loop(chat: TerminalChat) -> None:
    """Input from a pipe or file (`printf '...' | python -m addons.channels.terminal_chat`): one message a line."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        typed = line.rstrip("\r\n")
        chat.write(PROMPT + typed)
        if not await chat.handle(typed):
            return


async def load(model: str, endpoints: str) -> Any:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    return await load_agent(model_path=model, endpoints=AvailableEndpoints.read_endpoints(endpoints))


async def run(model: str, endpoints: str) -> int:
    agent = await load(model, endpoints)
    if not agent.is_ready():
        print(LOAD_FAILED.format(model=model), file=sys.stderr)
        return 1
    print(READY, flush=True)
    chat = TerminalChat(agent, SENDER_PREFIX + secrets.token_hex(8))
    await (prompt_loop(chat) if sys.stdin.isatty() else piped_loop(chat))
    print(GOODBYE)
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m addons.channels.terminal_chat", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model", default=str(ROOT / "models" / "debt-rights.tar.gz"))
    parser.add_argument("--endpoints", default=str(ROOT / "endpoints.yml"))
    parser.add_argument("--verbose", action="store_true", help="keep dependency warnings and logs (debugging)")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    for path, problem in ((args.model, LOAD_FAILED), (args.endpoints, NO_ENDPOINTS)):
        if not Path(path).is_file():  # Rasa would go on without a model or with in-memory stores
            print(problem.format(model=path, endpoints=path), file=sys.stderr)
            return 1
    print(LOADING, flush=True)
    try:
        configure_output(args.verbose)  # first: importing Rasa's modules warns
        from addons import server_hooks

        server_hooks.install_all()  # the project's patches to Rasa, before the agent loads
        return asyncio.run(run(args.model, args.endpoints))
    except KeyboardInterrupt:  # Ctrl-C while loading or while the assistant was answering
        print(GOODBYE)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
