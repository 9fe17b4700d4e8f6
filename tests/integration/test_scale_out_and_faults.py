"""Scale-out and faults with real processes: two `rasa run` servers sharing a real
PostgreSQL (tracker store) and Redis (lock store), a real action server, all on loopback.

1. one conversation alternates between the two servers message by message and keeps
   its slots and form state;
2. a server is killed and restarted mid-conversation: nothing is lost;
3. the action server is stopped mid-conversation: the user gets the friendly
   "稍后再试" text (HTTP 200), and the conversation resumes when it is back;
4. 200 concurrent conversations from a bounded local load generator: no lost or
   duplicated reply, no 5xx;
5. no raw ID/phone/card number in PostgreSQL, in an SQLite store, or in the logs.

Servers are started once per module (start-up costs ~30 s each).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Tuple

import aiohttp
import psycopg2
import pytest
import redis

from addons.messages import SERVICE_UNAVAILABLE, load_messages
from addons.stores.redaction import id18_valid, luhn_valid

from .rasa_processes import MODEL, RasaServer, action_server, say, tail, texts

FRIENDLY = load_messages()[SERVICE_UNAVAILABLE]
FRIENDLY_TRADITIONAL = "系統暫時忙不過來，請稍後再試。如果有人正在威脅你的安全，請馬上撥打110。"
ID_NUMBER, PHONE, CARD = "110101199003077571", "13812345678", "6222021234567890128"
PII_MESSAGE = f"我的身份证号是{ID_NUMBER}，手机{PHONE}，卡号{CARD}"
RAW_NUMBERS = (ID_NUMBER, PHONE, CARD)
PLANNER = [
    "/start_installment_plan",
    "四万三",
    "六千",
    "两千五",
    '/inform{"choice": "unknown"}',
    "是招商银行的",
    "信用卡",
]
# What the planner asks after each answer (phrases of actions/knowledge/dialogue.yml).
PLANNER_ASKS = ["欠多少", "收入", "开支", "逾期多久", "银行", "信用卡，还是贷款"]


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> Path:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test-integration does).", pytrace=False)
    return MODEL


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scale")


@pytest.fixture(scope="module")
def actions(work):
    process = action_server(work).start().wait_ready(90)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def action_url(actions) -> str:
    return actions.health_url.replace("/health", "/webhook")


@pytest.fixture(scope="module")
def shared_db(postgres_url) -> str:
    """A database of its own on the session's PostgreSQL server (other tests use `rasa`)."""
    connection = psycopg2.connect(postgres_url.rsplit("/", 1)[0] + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute('CREATE DATABASE "scale_out"')
    connection.close()
    return postgres_url.rsplit("/", 1)[0] + "/scale_out"


@pytest.fixture(scope="module")
def shared_redis(redis_url) -> str:
    return redis_url.rsplit("/", 1)[0] + "/3"  # a Redis database of its own


@pytest.fixture(scope="module")
def cluster(model, work, action_url, shared_db, shared_redis) -> Tuple[RasaServer, RasaServer]:
    token = secrets.token_hex(16)
    servers = []
    for name in ("rasa-a", "rasa-b"):
        folder = work / name
        folder.mkdir()
        servers.append(RasaServer(name, folder, action_url, token, TRACKER_DB_URL=shared_db, REDIS_URL=shared_redis))
    try:
        for server in servers:  # both load their model at the same time
            server.start()
        for server in servers:
            server.wait_ready()
    except RuntimeError as error:
        for server in servers:
            server.stop(kill=True)
        pytest.fail(str(error), pytrace=False)
    yield servers[0], servers[1]
    for server in servers:
        server.stop()


def pg_rows(url: str, sender: str = "") -> List[str]:
    """Every row of every table of the database as text (of one sender's events if given)."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        if sender:
            cursor.execute("SELECT e::text FROM events e WHERE sender_id = %s ORDER BY id", (sender,))
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        rows: List[str] = []
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            rows.extend(row[0] for row in cursor.fetchall())
        return rows


def events_of(url: str, sender: str) -> List[Dict[str, Any]]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
        return [json.loads(row[0]) for row in cursor.fetchall()]


def ask(server: RasaServer, sender: str, text: str) -> List[str]:
    status, replies = say(server, sender, text)
    assert status == 200, f"{server.name}: HTTP {status} {replies}\n{tail(server.log)}"
    assert all(reply.get("recipient_id") == sender for reply in replies)
    return texts(replies)


# --- 1. one conversation across two servers -------------------------------------------------


def test_two_servers_share_postgres_and_redis_and_the_api_needs_the_token(cluster, shared_db, shared_redis):
    server_a, server_b = cluster
    assert ask(server_a, "probe", "你好") and ask(server_b, "probe", "你好")
    for server in cluster:
        assert server.tracker("probe", token=None)[0] == 401  # API on, but not without the token
        assert server.tracker("probe", token="wrong")[0] == 401
        assert server.tracker("probe")[0] == 200
    assert sum(1 for event in events_of(shared_db, "probe") if event["event"] == "user") == 2
    # Bodies over SANIC_REQUEST_MAX_SIZE (1 MiB by default through scripts/run_server.py): 413.
    huge = json.dumps({"sender": "probe", "message": "欠" * 700_000}, ensure_ascii=False).encode()
    request = urllib.request.Request(f"{server_a.url}/webhooks/rest/webhook", data=huge)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    stats = redis.Redis.from_url(shared_redis).info("commandstats")
    assert stats.get("cmdstat_evalsha", {}).get("calls", 0) + stats.get("cmdstat_eval", {}).get("calls", 0) >= 4, (
        "the conversation locks did not go through Redis"
    )


def test_one_conversation_alternates_between_the_servers_and_keeps_its_form(cluster):
    server_a, server_b = cluster
    sender = "alternating-" + secrets.token_hex(4)
    answers = []
    for index, text in enumerate(PLANNER):
        server = cluster[index % 2]  # A, B, A, B ...
        answers.append("\n".join(ask(server, sender, text)))
        if index < len(PLANNER_ASKS):
            assert PLANNER_ASKS[index] in answers[-1], (server.name, text, answers[-1])
        if index == 3:  # form half-way: the other server sees the same state through the API
            status, tracker = server_a.tracker(sender)
            assert status == 200
            slots = tracker["slots"]
            assert (slots["amount"], slots["monthly_income"], slots["monthly_expense"]) == (43000, 6000, 2500)
            assert slots["requested_slot"] == "overdue_duration"
            assert tracker["active_loop"]["name"] == "installment_plan_form"
    plan = answers[-1]
    assert "43,000元" in plan and "6,000元" in plan and "2,500元" in plan and "招商银行" in plan, plan
    status, tracker = server_b.tracker(sender)
    assert status == 200 and tracker["slots"]["bank"] == "招商银行" and not tracker["active_loop"]
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == PLANNER  # every message, once


# --- 2. restart mid-conversation ---------------------------------------------------------------------


def test_server_killed_and_restarted_mid_conversation_loses_nothing(cluster):
    server_a, server_b = cluster
    sender = "restart-" + secrets.token_hex(4)
    assert "欠多少" in "".join(ask(server_a, sender, PLANNER[0]))
    assert "收入" in "".join(ask(server_a, sender, PLANNER[1]))

    server_a.stop(kill=True)  # a crash, not a clean shutdown
    server_a.start()
    assert "开支" in "".join(ask(server_b, sender, PLANNER[2]))  # B serves while A comes back
    server_a.wait_ready()

    assert "逾期多久" in "".join(ask(server_a, sender, PLANNER[3]))  # the restarted A continues
    assert "银行" in "".join(ask(server_a, sender, PLANNER[4]))
    assert "信用卡，还是贷款" in "".join(ask(server_a, sender, PLANNER[5]))  # the letter depends on it
    assert "43,000元" in "\n".join(ask(server_a, sender, PLANNER[6]))
    _, tracker = server_a.tracker(sender)
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == PLANNER


# --- 3. action server down -----------------------------------------------------------------------------------


def test_action_server_down_gives_the_friendly_text_then_the_conversation_resumes(cluster, actions):
    server_a, server_b = cluster
    question = "催收的人能进我家吗"
    plain, form = "fault-" + secrets.token_hex(4), "fault-form-" + secrets.token_hex(4)
    normal = ask(server_a, plain, question)
    assert normal and FRIENDLY not in normal
    ask(server_a, form, PLANNER[0])
    assert "收入" in "".join(ask(server_b, form, PLANNER[1]))

    actions.stop(kill=True)
    try:
        assert ask(server_a, plain, question) == [FRIENDLY]  # HTTP 200, one friendly text
        assert ask(server_b, plain, "催收的人能進我家嗎") == [FRIENDLY_TRADITIONAL]
        assert ask(server_b, form, PLANNER[2]) == [FRIENDLY]  # inside the form
    finally:
        actions.start().wait_ready(90)

    resumed = ask(server_b, plain, question)  # resumes with the normal answer (its first line;
    assert FRIENDLY not in resumed and resumed[0].split("\n")[0] == normal[0].split("\n")[0]  # no 2nd disclaimer)
    assert "开支" in "".join(ask(server_a, form, PLANNER[2]))  # the form continues where it was
    _, tracker = server_a.tracker(form)
    assert tracker["active_loop"]["name"] == "installment_plan_form"
    assert (tracker["slots"]["amount"], tracker["slots"]["monthly_income"]) == (43000, 6000)
    for server in cluster:
        assert "Traceback" not in server.log_text(), tail(server.log)


# --- 4. 200 concurrent conversations -------------------------------------------------------------------


CONVERSATIONS, CONCURRENCY, TOTAL_TIMEOUT = 200, 50, 420.0
LOAD_MESSAGES = ("你好", "催收的人能进我家吗")


def test_200_concurrent_conversations_lose_and_duplicate_nothing(cluster, shared_db, actions):
    server_a, server_b = cluster
    run_id = secrets.token_hex(3)
    # The replies one conversation gets when nothing else is going on.
    expected = [
        [
            {k: v for k, v in reply.items() if k != "recipient_id"}
            for reply in say(server_a, f"baseline-{run_id}", text)[1]
        ]
        for text in LOAD_MESSAGES
    ]
    assert all(expected), expected

    async def conversation(session: aiohttp.ClientSession, gate: asyncio.Semaphore, index: int):
        sender = f"load-{run_id}-{index:03d}"
        order = (server_a, server_b) if index % 2 == 0 else (server_b, server_a)  # each turn on another server
        results = []
        async with gate:
            for server, text in zip(order, LOAD_MESSAGES):
                async with session.post(
                    f"{server.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                ) as reply:
                    body = await reply.json(content_type=None) if reply.status < 500 else await reply.text()
                    results.append((reply.status, body))
        return sender, results

    async def load():
        gate = asyncio.Semaphore(CONCURRENCY)  # bounded: at most 50 conversations in flight
        connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:
            return await asyncio.wait_for(
                asyncio.gather(*(conversation(session, gate, i) for i in range(CONVERSATIONS))), TOTAL_TIMEOUT
            )

    started = time.monotonic()
    outcomes = asyncio.run(load())
    elapsed = time.monotonic() - started
    statuses = [status for _, results in outcomes for status, _ in results]
    assert len(statuses) == CONVERSATIONS * len(LOAD_MESSAGES)
    assert not [s for s in statuses if s >= 500], f"5xx replies: {sorted(set(statuses))}"
    assert set(statuses) == {200}, sorted(set(statuses))
    for sender, results in outcomes:
        for (_, body), want in zip(results, expected):
            assert [reply["recipient_id"] for reply in body] == [sender] * len(body), sender
            assert [{k: v for k, v in r.items() if k != "recipient_id"} for r in body] == want, sender

    # The store agrees: every conversation has each user message once and each reply once.
    with psycopg2.connect(shared_db) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT sender_id, type_name, count(*) FROM events WHERE sender_id LIKE %s "
            "AND type_name IN ('user', 'bot') GROUP BY sender_id, type_name",
            (f"load-{run_id}-%",),
        )
        counts: Dict[Tuple[str, str], int] = {(s, t): n for s, t, n in cursor.fetchall()}
    replies_per_conversation = sum(len(want) for want in expected)
    for index in range(CONVERSATIONS):
        sender = f"load-{run_id}-{index:03d}"
        assert counts.get((sender, "user")) == len(LOAD_MESSAGES), sender
        assert counts.get((sender, "bot")) == replies_per_conversation, sender
    memory = ", ".join(f"{process.name} {rss_mb(process)} MB" for process in (*cluster, actions))
    print(
        f"\n{CONVERSATIONS} conversations x {len(LOAD_MESSAGES)} messages, {CONCURRENCY} at a time, two servers: "
        f"{elapsed:.1f} s ({CONVERSATIONS * len(LOAD_MESSAGES) / elapsed:.0f} messages/s); resident memory {memory}"
    )


def rss_mb(process) -> int:
    """Resident memory of a server process (Linux), for the sizing notes in docs/deployment.md."""
    try:
        status = Path(f"/proc/{process.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
    except (OSError, AttributeError):
        return -1


# --- 5. no raw identifiers in the stores or the logs -----------------------------------------------------


def test_the_identifiers_are_real_ones_the_redaction_must_catch():
    assert id18_valid(ID_NUMBER) and luhn_valid(CARD) and re.fullmatch(r"1[3-9]\d{9}", PHONE)


def assert_no_raw_numbers(where: str, text: str) -> None:
    found = [raw for raw in RAW_NUMBERS if raw in text]
    assert not found, f"raw {found} in {where}"


def test_no_raw_identifier_in_postgres_or_the_logs(cluster, actions, shared_db):
    server_a, server_b = cluster
    sender = "pii-pg-" + secrets.token_hex(4)
    assert ask(server_a, sender, PII_MESSAGE)
    assert ask(server_b, sender, "谢谢")
    stored = [event["text"] for event in events_of(shared_db, sender) if event["event"] == "user"]
    assert stored[0] == "我的身份证号是[身份证号]，手机[手机号]，卡号[银行卡号]", stored
    assert_no_raw_numbers("PostgreSQL (all tables)", "\n".join(pg_rows(shared_db)))
    _, tracker = server_b.tracker(sender)
    assert_no_raw_numbers("the tracker from the API", json.dumps(tracker, ensure_ascii=False))
    for process in (server_a, server_b, actions):
        assert_no_raw_numbers(f"{process.name}'s log", process.log_text())


def test_no_raw_identifier_in_sqlite_or_the_debug_log(model, work, action_url, actions):
    folder = work / "rasa-sqlite"
    folder.mkdir()
    database = folder / "rasa.db"
    # DEBUG on purpose: Rasa then logs the message text and parse data.
    server = RasaServer(
        "rasa-sqlite", folder, action_url, secrets.token_hex(16), debug=True, TRACKER_DB_URL=f"sqlite:///{database}"
    )
    try:
        server.start().wait_ready()
        sender = "pii-sqlite-" + secrets.token_hex(4)
        assert ask(server, sender, PII_MESSAGE)
        assert ask(server, sender, "谢谢")
    finally:
        server.stop()
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", (sender,)).fetchall()
    stored = [json.loads(data)["text"] for (data,) in rows if json.loads(data)["event"] == "user"]
    assert stored[0] == "我的身份证号是[身份证号]，手机[手机号]，卡号[银行卡号]", stored
    files = [path for path in folder.iterdir() if path.name.startswith("rasa.db")]  # -wal / -journal too
    for path in files:
        content = path.read_bytes()
        for raw in RAW_NUMBERS:
            assert raw.encode() not in content, f"raw {raw} in {path.name}"
    log = server.log_text()
    assert "DEBUG" in log and "[手机号]" in log, "the debug log should show the (redacted) message"
    assert_no_raw_numbers("the SQLite server's DEBUG log", log)
    assert_no_raw_numbers("the action server's log", actions.log_text())
