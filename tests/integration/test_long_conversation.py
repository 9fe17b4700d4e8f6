"""A 200-turn conversation behaves exactly as a short one (issue 14), over the real bot's REST webhook.

Long sessions are stored in segments (addons/stores/tracker_segments.py): the facts, the forms, the
offers, the case summary's records, deletion and redaction must not notice. Behaviour tests only,
no timing: the cost per turn is measured by `make bench`.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from typing import Dict, List

import pytest

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.kb import load_kb
from addons.settings import load_settings

from .rasa_processes import real_bot, say, texts

DIALOGUE = load_dialogue()
SEGMENT = load_settings().segment_turns
QUESTIONS = [
    "催收打电话给我爸妈合法吗",
    "信用卡还不上会坐牢吗",
    "收到律师函说要起诉我是真的吗",
    "催收晚上十点还能打电话吗",
    "逾期多久上征信",
    "信用卡违约金合法吗",
    "催收上门我可以录像吗",
    "怎么投诉催收",
    "催收专员是银行的人吗",
    "你好",
    "谢谢",
    "明天天气怎么样",
    "上门催收一般是什么流程",
    "银行会起诉我吗",
]
OFFER_QUESTION = "催收打电话给我爸妈合法吗"  # answered with the 记录骚扰并生成投诉 offer
PHONE = "13912345678"
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    with real_bot(folder, "long-bot", RATE_LIMIT_PER_MINUTE="0") as server:  # 200 turns in a minute
        server.folder = folder
        yield server


def turn(bot, sender: str, text: str) -> List[Dict]:
    status, replies = say(bot, sender, text)
    assert status == 200, replies
    assert replies, f"no reply to {text!r}"
    return replies


DISCLAIMER = load_kb().labels["disclaimer"]  # shown once per conversation: the short one sees it first


def joined(replies: List[Dict]) -> str:
    text = DATE.sub("<date>", "\n".join(texts(replies)))
    return re.sub(r"\s*" + re.escape(DISCLAIMER), "", text)


PLANNER = ["/start_installment_plan", "催收能进我家吗", "对", "3000", "3个月", "生成我的情况摘要"]


def planner_dialogue(bot, sender: str) -> List[str]:
    """The planner with facts given before, an interruption, the plan and the summary."""
    return [joined(turn(bot, sender, text)) for text in PLANNER]


def test_a_200_turn_conversation_behaves_like_a_short_one(bot):
    assert SEGMENT > 0, "the bot under test stores long sessions in segments"
    short, long_ = "short-" + secrets.token_hex(4), "long-" + secrets.token_hex(4)
    facts = "我欠招行信用卡五万多，月收入6000"
    turn(bot, short, facts)
    turn(bot, long_, facts)
    turn(bot, long_, f"我的手机号是{PHONE}")
    count, offered_across_a_break = 2, False
    while count < 150:
        question = QUESTIONS[count % len(QUESTIONS)]
        if (count + 1) % SEGMENT == 0:
            question = OFFER_QUESTION  # its offer is the last bot message before a segment break
        replies = turn(bot, long_, question)
        count += 1
        if question == OFFER_QUESTION and count % SEGMENT == 0 and not offered_across_a_break:
            assert any(b["payload"] == "/start_incident_log" for r in replies for b in r.get("buttons") or [])
            started = joined(turn(bot, long_, "好"))  # the yes still takes the offer after the break
            count += 1
            assert "你前面说" in started or DIALOGUE.questions["incident_behaviors"].text in started
            turn(bot, long_, "取消")
            count += 1
            offered_across_a_break = True
    assert offered_across_a_break

    long_replies = planner_dialogue(bot, long_)
    short_replies = planner_dialogue(bot, short)
    assert long_replies[0] == short_replies[0]  # the same one-line review of the same facts
    assert "5万元" in long_replies[0] and "6000元" in long_replies[0]
    for step, (in_long, in_short) in enumerate(zip(long_replies[1:5], short_replies[1:5]), 1):
        assert in_long == in_short, f"{PLANNER[step]!r} answered differently"  # interruption, resume, plan
    assert "建议申请分" in long_replies[4]
    summary_long, summary_short = long_replies[5], short_replies[5]
    assert "建议申请分" in summary_long and "5万元" in summary_long
    # the long conversation's summary also lists the advice it was given
    assert "会不会坐牢" in summary_long and "会不会坐牢" not in summary_short

    with sqlite3.connect(bot.folder / "rasa.db") as connection:
        stored = " ".join(
            json.dumps(json.loads(row[0]), ensure_ascii=False)
            for row in connection.execute("SELECT data FROM events WHERE sender_id = ?", (long_,))
        )
        breaks = connection.execute(
            "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'session_started'", (long_,)
        ).fetchone()[0]
    assert PHONE not in stored and "[手机号]" in stored  # redaction holds in every segment
    assert breaks >= 150 // SEGMENT

    assert DIALOGUE.messages["data_deleted"] in joined(turn(bot, long_, "删除我的聊天记录"))
    with sqlite3.connect(bot.folder / "rasa.db") as connection:
        left = connection.execute("SELECT count(*) FROM events WHERE sender_id = ?", (long_,)).fetchone()[0]
    assert left == 0  # every segment went
    fresh = joined(turn(bot, long_, "/start_installment_plan"))
    assert "你前面说" not in fresh and DIALOGUE.questions["amount"].text in fresh
