"""`python -m addons.channels.terminal_chat` (= `make chat`) through a real pseudo-terminal.

The trained model, a real action server and a temporary SQLite tracker store.
Flows are driven by what the bot asks (the lead may add confirmation steps), and
assertions hold on numbers, the document title and the stored events, not wording.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pexpect
import pytest

from addons.channels.terminal_chat import choice_index, command_of, message_lines, outgoing
from tests.integration.rasa_processes import MODEL, ROOT, action_server, base_env, write_endpoints

# Any prompt_toolkit escape sequence (CSI, with private "?" modes) and the OSC title sequence.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
# The chat's prompt at the start of a fresh line: printed after the bot's reply (or the greeting).
# While the user types, prompt_toolkit redraws the prompt with cursor moves, never after a newline.
_PROMPT = re.compile(r"\r\n(?:\x1b\[[0-9;?]*[A-Za-z])*你：")
_OPTION = re.compile(r"\[(\d+)\] (.+?)(?=   \[|$)")
PLAN_TITLE = "协商还款申请书"
PHONE = "13812345678"


def clean(raw: str) -> str:
    return _ANSI.sub("", raw).replace("\r", "")


def amount_shown(text: str, number: int) -> bool:
    """`number` as a whole amount ("3,000" or "3000"; not the tail of "43,000")."""
    spelled = f"(?:{re.escape(f'{number:,}')}|{number})"
    return re.search(rf"(?<![\d,]){spelled}(?![\d,])", text) is not None


class Chat:
    """One run of the terminal chat; `say` returns the bot's reply without the echoed input."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.start_up = clean(child.before)

    def say(self, text: str, timeout: float = 120) -> str:
        self.child.sendline(text)
        self.child.expect(_PROMPT, timeout=timeout)
        output = clean(self.child.before)
        # The first line is the prompt's redraw with the typed text.
        assert text in output.split("\n", 1)[0], output
        return output.split("\n", 1)[1] if "\n" in output else ""

    def leave(self, keys: str = "/exit") -> str:
        self.child.sendline(keys)
        self.child.expect(pexpect.EOF, timeout=60)
        self.child.close()
        return clean(self.child.before)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("terminal-chat")


@pytest.fixture(scope="module")
def endpoints(folder) -> Iterator[Path]:
    assert MODEL.exists(), "run `make train` first (make test-integration depends on it)"
    actions = action_server(folder).start().wait_ready(90)
    try:
        yield write_endpoints(folder, actions.health_url.replace("/health", "/webhook"))
    finally:
        actions.stop()


def start_chat(folder: Path, endpoints: Path, database: str) -> Chat:
    home = folder / "home"
    home.mkdir(exist_ok=True)
    env = base_env(
        TRACKER_DB_URL=f"sqlite:///{folder / database}",
        TERM="xterm-256color",
        HOME=str(home),  # where a history file would go: checked for raw input afterwards
        # pexpect does not answer cursor-position requests as a real terminal does.
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "addons.channels.terminal_chat", "--model", str(MODEL), "--endpoints", str(endpoints)],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        dimensions=(50, 200),
        timeout=240,
    )
    child.expect(_PROMPT)
    return Chat(child)


@pytest.fixture
def chat(folder, endpoints, request) -> Iterator[Chat]:
    session = start_chat(folder, endpoints, f"{request.node.name}.db")
    yield session
    if session.child.isalive():
        session.child.terminate(force=True)


def options(reply: str) -> Dict[str, int]:
    """Title -> number of the numbered options under the last message of a reply."""
    lines = [line for line in reply.split("\n") if line.strip()]
    shown: Dict[str, int] = {}
    for line in reversed(lines):
        if not line.startswith("  ["):
            break
        shown.update({title: int(number) for number, title in _OPTION.findall(line)})
    return shown


def question(reply: str) -> str:
    """The last line of the reply that is not an option line: what the bot asks."""
    lines = [line for line in reply.split("\n") if line.strip() and not line.startswith("  [")]
    return lines[-1] if lines else ""


# What the planner asks, in the order checked (a confirmation may quote earlier answers).
PLAN_ANSWERS = (
    ("信用卡，还是贷款", "信用卡"),  # before "银行": its buttons name 银行贷款
    ("对吗", "对"),
    ("对不对", "对"),
    ("是吗", "对"),
    ("没错吧", "对"),
    ("确认", "对"),
    ("收入", "6000"),
    ("开支", "3000"),
    ("逾期", "3个月"),
    ("银行", "招商银行"),
    ("欠", "43000"),
)


def answer_for(asked: str) -> Optional[str]:
    return next((answer for keyword, answer in PLAN_ANSWERS if keyword in asked), None)


def run_planner(chat: Chat) -> List[Tuple[str, str, str]]:
    """Start the planner and answer each question by typing: [(reply asking, answer, reply)], the last with the plan."""
    turns: List[Tuple[str, str, str]] = []
    reply = chat.say("帮我算一下分期方案")
    for _ in range(12):
        if PLAN_TITLE in reply:
            return turns
        answer = answer_for(question(reply))
        assert answer is not None, f"unexpected question:\n{reply}"
        asked, reply = reply, chat.say(answer)
        turns.append((asked, answer, reply))
    pytest.fail(f"no {PLAN_TITLE} after 12 answers; last reply:\n{reply}")


def test_start_up_is_short_and_warning_free(chat):
    lines = [line for line in chat.start_up.split("\n") if line.strip()]
    assert 1 <= len(lines) <= 3, chat.start_up
    assert not re.search(r"Warning|WARNING|Traceback|INFO", chat.start_up), chat.start_up
    assert "terminal-" not in chat.start_up  # the sender id is not shown
    chat.leave()


def test_installment_plan_completed_by_typing_only(chat):
    turns = run_planner(chat)
    document = turns[-1][2].split(PLAN_TITLE, 1)[1]
    assert amount_shown(document, 43000) and amount_shown(document, 6000), document
    assert "3个月" in document and "招商银行" in document, document
    # The expense question offers buttons (e.g. 不知道); "3000" typed there is more than their
    # count, so it was sent as typed and the plan uses it.
    asked = next(question_reply for question_reply, answer, _ in turns if answer == "3000")
    assert options(asked) and max(options(asked).values()) < 3000, asked
    assert amount_shown(document, 3000), document
    chat.leave()


def chose(reply: str) -> bool:
    return any(line.startswith("→ ") for line in reply.split("\n"))


def test_numbered_option_sends_the_buttons_payload(chat):
    assert not chose(chat.say("1"))  # no options shown yet: plain text
    reply = chat.say("催收的人能进我家吗")
    number = options(reply).get("查看法律依据")
    assert number, f"no numbered 查看法律依据 option:\n{reply}"
    legal = chat.say(str(number))
    assert "→ 查看法律依据" in legal, legal
    assert "《刑法》第二百四十五条" in legal and "《宪法》第三十九条" in legal, legal
    # Full-width digits pick an option too.
    number = options(chat.say("催收的人能进我家吗")).get("查看法律依据")
    assert "→ 查看法律依据" in chat.say(chr(ord("０") + number))
    chat.leave()


def _stored(database: Path) -> List[sqlite3.Row]:
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()
    finally:
        connection.close()


def test_help_restart_and_the_conversation_is_stored_redacted(chat, folder, request):
    help_text = chat.say("/help")
    assert "/restart" in help_text and "/exit" in help_text and "编号" in help_text
    assert chat.say("") == ""  # empty input sends nothing: no reply
    chat.say(f"我的手机号是{PHONE}")
    restarted = chat.say("/restart")
    assert "重新开始" in restarted
    after = chat.say("催收的人能进我家吗")
    assert "《刑法》第二百四十五条" in after
    # The up arrow recalls the last line; Enter sends it again.
    chat.child.send("\x1b[A\r")
    chat.child.expect(_PROMPT, timeout=120)
    recalled = clean(chat.child.before)
    assert recalled.split("\n", 1)[0].endswith("催收的人能进我家吗") and "《刑法》第二百四十五条" in recalled
    # Ctrl-C clears the line, a second Ctrl-C on the empty line leaves.
    chat.child.send("不会发出去的话")
    chat.child.sendintr()
    chat.child.expect("Ctrl-D")  # the hint: one more Ctrl-C leaves
    chat.child.sendintr()
    chat.child.expect(pexpect.EOF, timeout=60)
    chat.child.close()
    assert chat.child.exitstatus == 0
    assert "terminal-" not in chat.start_up + clean(chat.child.before)

    database = folder / f"{request.node.name}.db"
    rows = _stored(database)
    senders = {row["sender_id"] for row in rows}
    assert len(senders) == 1 and next(iter(senders)).startswith("terminal-"), senders
    users = [json.loads(row["data"]) for row in rows if row["type_name"] == "user"]
    texts = [event["text"] for event in users]
    assert "我的手机号是[手机号]" in texts and "不会发出去的话" not in texts and "" not in texts
    assert {event.get("input_channel") for event in users} == {"terminal"}
    assert any(row["type_name"] == "restart" for row in rows)
    assert texts.count("催收的人能进我家吗") == 2
    # Nothing raw on disk: the database (and any WAL), the action server's log, the chat's HOME.
    for path in folder.rglob("*"):
        assert not path.is_file() or PHONE.encode() not in path.read_bytes(), path


def test_ctrl_d_leaves(chat):
    chat.child.sendeof()
    chat.child.expect(pexpect.EOF, timeout=60)
    chat.child.close()
    assert chat.child.exitstatus == 0
    assert "再见" in clean(chat.child.before)


def test_amount_shown_needs_the_whole_number():
    assert amount_shown("约3,000元", 3000) and amount_shown("开支3000元", 3000)
    assert not amount_shown("约43,000元", 3000) and not amount_shown("30000", 3000)


# The input rules on their own (no process): what a typed line becomes.
BUTTONS = [{"title": "查看法律依据", "payload": "/ask_legal_basis"}, {"title": "不知道", "payload": "/dont_know"}]


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("1", "/ask_legal_basis"),
        (" 2 ", "/dont_know"),
        ("２", "/dont_know"),
        ("3", "3"),
        ("0", "0"),
        ("38000", "38000"),
        ("01", "01"),
        ("1个月", "1个月"),
        ("-1", "-1"),
    ],
)
def test_only_a_number_within_the_options_picks_one(typed, sent):
    assert outgoing(typed, BUTTONS)[0] == sent
    assert outgoing(typed, [])[0] == typed
    assert choice_index(typed, 0) is None


def test_commands_and_messages_are_told_apart():
    assert command_of(" /HELP ") == "/help" and command_of("／quit") == "/quit"
    assert command_of("/help me") is None and command_of("/ask_legal_basis") is None


def test_custom_payloads_are_not_shown():
    assert message_lines({"custom": {"kind": "plan", "amount": 43000}}, 80) == []
    assert message_lines({"text": "第一行\n第二行", "buttons": BUTTONS}, 80) == [
        "第一行",
        "第二行",
        "  [1] 查看法律依据   [2] 不知道",
    ]
    # Options wrap at the terminal width (a Chinese character takes two columns).
    assert message_lines({"text": "问", "buttons": BUTTONS}, 20) == ["问", "  [1] 查看法律依据", "  [2] 不知道"]
