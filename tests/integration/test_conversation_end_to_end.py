"""The conversation as a user has it, over the REST webhook of the real bot (trained model,
real action server, SQLite store): facts are not asked twice, a yes or a number takes the
offer, the script sticks, complaints lead to the complaint path, a returning user is welcomed
back to the unfinished flow, and the case summary hands the case over."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Dict, List

import pytest

from actions.advice.dialogue_kb import load_dialogue

from .rasa_processes import real_bot, say, texts

DIALOGUE = load_dialogue()
DAY = 24 * 3600


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conversation")
    with real_bot(folder, "conversation-bot") as server:
        server.folder = folder
        yield server


def new_sender() -> str:
    return "e2e-" + secrets.token_hex(6)


def turn(bot, sender: str, text: str) -> List[Dict]:
    status, replies = say(bot, sender, text)
    assert status == 200, replies
    return replies


def joined(replies: List[Dict]) -> str:
    return "\n".join(texts(replies))


def buttons(replies: List[Dict]) -> List[Dict]:
    return [b for reply in replies for b in reply.get("buttons") or []]


def documents(replies: List[Dict]) -> List[Dict]:
    return [
        r["custom"]["structured"]["document"]
        for r in replies
        if (r.get("custom") or {}).get("structured", {}).get("kind") == "document"
    ]


def test_facts_given_once_are_confirmed_in_one_line_not_asked_again(bot):
    sender = new_sender()
    first = turn(bot, sender, "我欠招行信用卡五万多，月收入6000，怎么跟银行谈分期")
    assert "个性化分期" in joined(first)
    assert {"title": "帮我做分期方案", "payload": "/start_installment_plan"} in buttons(first)

    review = joined(turn(bot, sender, "好"))  # the yes takes the only offer
    assert "你前面说" in review and "5万元" in review and "6000元" in review and "招商银行" in review
    assert DIALOGUE.questions["amount"].text not in review

    correction = joined(turn(bot, sender, "其实是六万"))
    assert "你前面说" in correction and "6万元" in correction

    asked = joined(turn(bot, sender, "对"))
    assert DIALOGUE.questions["monthly_expense"].text in asked
    assert DIALOGUE.questions["monthly_income"].text not in asked

    turn(bot, sender, "3000")
    result = turn(bot, sender, "3个月")
    (letter,) = [d for d in documents(result) if d["title"] == "协商还款申请书"]
    body = letter["body"]
    assert "60,000元" in body and "6,000元" in body and "3,000元" in body and "招商银行" in body
    assert "第七十条" in body  # a credit card: the 个性化分期 rule

    summary = turn(bot, sender, "生成我的情况摘要")
    (page,) = [d for d in documents(summary) if d["title"] == "我的情况摘要"]
    assert "6万元" in page["body"] and "建议申请分" in page["body"] and "12348" in page["body"]


def test_a_wish_to_complain_in_traditional_leads_to_the_complaint_texts(bot):
    sender = new_sender()
    review = joined(turn(bot, sender, "催收員天天打電話罵我，還打給我同事，我想投訴"))
    assert "你前面說" in review and "同事" in review  # the incident log, pre-filled, in Traditional
    when = joined(turn(bot, sender, "好"))
    assert DIALOGUE.questions["incident_time"].text not in when  # Traditional, not Simplified
    assert "什麼時候" in when
    evidence_question = joined(turn(bot, sender, "昨天晚上"))
    assert "證據" in evidence_question
    result = turn(bot, sender, "有錄音")
    titles = [d["title"] for d in documents(result)]
    assert "給銀行的投訴書" in titles and "給12378的投訴材料" in titles
    complaint = next(d["body"] for d in documents(result) if d["title"] == "給銀行的投訴書")
    assert "同事" in complaint and "昨天晚上" in complaint


def test_a_typed_number_takes_that_button(bot):
    sender = new_sender()
    answer = turn(bot, sender, "催收的人能进我家吗")
    assert buttons(answer)[0]["payload"] == "/ask_legal_basis"
    basis = joined(turn(bot, sender, "1"))
    assert load_dialogue().messages.get("clarify") not in basis
    assert "相关规定摘录" in basis and "第二百四十五条" in basis


def test_a_fake_policeman_asking_for_a_transfer_is_called_fraud_at_once(bot):
    replies = turn(bot, new_sender(), "刚才有人打电话说是公安局的，说我涉嫌恶意透支，让我把钱转到安全账户配合调查")
    text = joined(replies)
    assert "诈骗" in text and "110" in text


def test_a_live_emergency_gets_safety_first(bot):
    text = joined(turn(bot, new_sender(), "他们在砸门😭😭"))
    assert text.startswith("先顾安全") and "110" in text


def _age_conversation(db: Path, sender: str, seconds: float) -> None:
    """Move a conversation's events into the past, as if the user came back days later."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id, timestamp, data FROM events WHERE sender_id = ?", (sender,)).fetchall()
        for row_id, stamp, data in rows:
            event = json.loads(data)
            event["timestamp"] = float(event.get("timestamp") or stamp) - seconds
            connection.execute(
                "UPDATE events SET timestamp = ?, data = ? WHERE id = ?",
                (float(stamp) - seconds, json.dumps(event), row_id),
            )


def test_a_returning_user_is_offered_the_unfinished_flow_and_can_continue(bot):
    sender = new_sender()
    turn(bot, sender, "/start_installment_plan")
    asked = joined(turn(bot, sender, "四万三"))
    assert DIALOGUE.questions["monthly_income"].text in asked
    _age_conversation(bot.folder / "rasa.db", sender, 3 * DAY)
    welcome = turn(bot, sender, "在吗")
    assert "欢迎回来" in joined(welcome) and "分期方案" in joined(welcome)
    resume = next(b["payload"] for b in buttons(welcome) if b["title"] == DIALOGUE.buttons["resume"])
    resumed = joined(turn(bot, sender, resume))
    assert DIALOGUE.questions["monthly_income"].text in resumed  # the debt was kept, not asked again


def test_after_deletion_nothing_of_the_old_conversation_is_remembered(bot):
    sender = new_sender()
    turn(bot, sender, "/start_installment_plan")
    turn(bot, sender, "四万三")
    assert DIALOGUE.messages["data_deleted"] in joined(turn(bot, sender, "删除我的聊天记录"))
    time.sleep(0.5)
    _age_conversation(bot.folder / "rasa.db", sender, 3 * DAY)
    back = joined(turn(bot, sender, "你好"))
    assert "欢迎回来" not in back
    planner = joined(turn(bot, sender, "/start_installment_plan"))
    assert "你前面说" not in planner and DIALOGUE.questions["amount"].text in planner


@pytest.mark.parametrize("choice", range(len(DIALOGUE.questions["collector_claims_to_be"].buttons)))
def test_every_claim_button_of_the_collector_check_is_accepted(bot, choice):
    """Tapping 警察 once re-asked the question: the normaliser turned the payload's "police" into 警察."""
    sender = new_sender()
    first = DIALOGUE.questions["collector_claims_to_be"]
    assert first.text in joined(turn(bot, sender, "帮我判断上门的人是不是正规的"))
    tapped = first.buttons[choice]
    after = joined(turn(bot, sender, tapped["payload"]))
    assert first.text not in after and DIALOGUE.explanations["collector_claims_to_be"] not in after, tapped


@pytest.mark.parametrize("answer", ["没有", "都没有", "没有联系别人"])
def test_nobody_contacted_is_an_answer_in_the_incident_log(bot, answer):
    """ "没有" used to be stored as [["none"]] and refused, so the question came again."""
    sender = new_sender()
    for text in ("我想投诉", "他们威胁我", "昨晚十点"):
        replies = turn(bot, sender, text)
    assert DIALOGUE.questions["incident_contacted"].text in joined(replies)
    after = joined(turn(bot, sender, answer))
    assert DIALOGUE.questions["incident_contacted"].text not in after
    assert DIALOGUE.questions["incident_evidence"].text in after
