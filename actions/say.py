"""Send texts from the knowledge base in the user's script (Traditional if they write it)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.render import document_message, keep_paragraphs, split_for_phone
from actions.tracker_facts import wants_traditional
from chinese_text.script import to_traditional

SUMMARY_PAYLOAD = "/request_case_summary"


def send(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    buttons: Optional[Sequence[Mapping[str, str]]] = None,
) -> None:
    """Send text (split to phone size; buttons go with the last piece)."""
    traditional = wants_traditional(tracker)
    chunks = split_for_phone(text) or [text]
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        shown: List[Dict[str, str]] = [dict(b) for b in buttons or []] if last else []
        if traditional:
            chunk = to_traditional(chunk)
            for button in shown:
                button["title"] = to_traditional(button["title"])
        dispatcher.utter_message(text=keep_paragraphs(chunk), buttons=shown or None)


def send_document(dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, body: str) -> None:
    """A generated document: the whole text (channels cut it to their size) plus a copy/download payload."""
    message = document_message(load_dialogue().documents[kind], body, wants_traditional(tracker))
    dispatcher.utter_message(text=message.text, json_message={"structured": message.structured})


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str,
    buttons: Optional[Sequence[Mapping[str, Any]]] = None,
    **values: str,
) -> None:
    """Send messages[key] from dialogue.yml with its {fields} filled in."""
    send(dispatcher, tracker, load_dialogue().messages[key].format(**values), buttons)


def cancel_button() -> Dict[str, str]:
    return {"title": load_dialogue().buttons["cancel"], "payload": "/cancel"}


def summary_button() -> Dict[str, str]:
    return {"title": load_dialogue().buttons["case_summary"], "payload": SUMMARY_PAYLOAD}
