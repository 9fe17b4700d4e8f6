"""Bad input through the real server (make run): a clear, friendly reply, never silence or 5xx."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import yaml

from tests.integration.rasa_processes import real_bot, say, texts

ROOT = Path(__file__).resolve().parents[2]


def _response(name: str) -> str:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][name][0]["text"]


def _message(key: str) -> str:
    dialogue = yaml.safe_load((ROOT / "actions" / "knowledge" / "dialogue.yml").read_text(encoding="utf-8"))
    return dialogue["messages"][key]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with real_bot(tmp_path_factory.mktemp("bad-input"), "rasa-bad-input") as rasa:
        yield rasa


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "\x00\x01\x02\x7f", "？？？"])
def test_empty_or_junk_gets_a_clear_reply(server, text):
    status, replies = say(server, f"junk-{secrets.token_hex(4)}", text)
    assert status == 200
    assert texts(replies) == [_response("utter_empty_message")]


def test_ten_thousand_characters_are_answered_with_a_note(server):
    status, replies = say(server, "long-1", "催收的人能进我家吗？" * 1000)
    assert status == 200
    assert texts(replies)[0] == _message("message_truncated")
    assert any("《刑法》第二百四十五条" in t for t in texts(replies[1:]))


def test_emoji_and_binary_around_a_question_still_answer_it(server):
    status, replies = say(server, "mixed-1", "😭😭催收的人能进我家吗\x00\x07")
    assert status == 200 and any("《刑法》第二百四十五条" in t for t in texts(replies))


def test_conversation_continues_after_junk(server):
    sender = "after-junk-1"
    say(server, sender, "😀")
    status, replies = say(server, sender, "你好")
    assert status == 200 and texts(replies)[0] == _response("utter_greet")
