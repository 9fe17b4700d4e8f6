"""The web chat widget end to end in real headless Chromium.

By default the page and the socket.io channel are served by a Sanic app on
127.0.0.1 with a scripted bot (the channel and the widget are under test). To run
the conversation test against a real Rasa server started with the channel in
credentials.yml, set WEBCHAT_BASE_URL (e.g. http://127.0.0.1:5005); optionally
WEBCHAT_QUESTION, WEBCHAT_EXPECT (text its answer must contain; the answer must
also carry quick replies) and WEBCHAT_FOLLOW_UP (sent after the reload).

The structured answers (custom.structured) come from the scripted bot only, on a
375 px phone screen; the real bot does not send them yet.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from addons.channels.socketio_channel import PersistentSocketIOInput
from tests.channels.socketio_harness import (
    ADVICE_ALSO,
    ADVICE_BUTTONS,
    CITATION,
    DOCUMENT_BODY,
    PAYLOAD_ANSWERS,
    QUICK_REPLIES,
    SOFT_LAW_CITATION,
    STRUCTURED_ADVICE,
    STRUCTURED_DOCUMENT,
    STRUCTURED_REPLIES,
    BackgroundServer,
    ScriptedBot,
    make_credentials,
)

ROOT = Path(__file__).resolve().parents[2]
WIDGET_JS = ROOT / "web" / "widget.js"
# Written on every run; docs/img/widget.png and docs/img/widget_document.png are curated
# copies of the two structured ones.
SCREENSHOT = ROOT / "results" / "widget_conversation.png"
SCREENSHOT_ADVICE = ROOT / "results" / "widget.png"
SCREENSHOT_DOCUMENT = ROOT / "results" / "widget_document.png"
ADVICE_QUESTION = "催收的人赖在我家不走，怎么办？"
DOCUMENT_QUESTION = "帮我写一份协商还款申请书"
PHONE = (375, 812)
PAGE = "/webhooks/socketio/webchat/"
REAL_SERVER = os.environ.get("WEBCHAT_BASE_URL", "").rstrip("/")
QUESTION = os.environ.get("WEBCHAT_QUESTION", "催收的人闯进我家不走，合法吗？")
EXPECT = os.environ.get("WEBCHAT_EXPECT", CITATION)
FOLLOW_UP = os.environ.get("WEBCHAT_FOLLOW_UP", "催收说要去我单位闹，怎么办？")
WAIT = 60 if REAL_SERVER else 10
HTML_ANSWER = '<img src=x onerror="window.__xss=1">\n第二行 <b>不是粗体</b>'

# Reads the widget's shadow DOM into plain data.
READ_LOG = """
const root = document.getElementById('debt-chat-widget').shadowRoot;
return [...root.querySelectorAll('.log > .row:not(.typing)')].map(row => ({
  from: row.classList.contains('user') ? 'user' : 'bot',
  text: [...row.querySelectorAll('.bubble')].map(b => b.textContent).join('\\n\\n'),
  quick: [...row.querySelectorAll('.quick .reply')].map(b => b.textContent),
}));
"""
STORED_SESSION = """
const key = Object.keys(localStorage).find(k => k.startsWith('debtchat:') && k.endsWith(':session'));
return key ? localStorage.getItem(key) : null;
"""


def save_screenshot(driver: Any, path: Path = SCREENSHOT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    png = driver.get_screenshot_as_png()
    assert len(png) > 10_000
    path.write_bytes(png)


@pytest.fixture
def local_server() -> Iterator[BackgroundServer]:
    extra = {
        "/html": HTML_ANSWER,
        ADVICE_QUESTION: STRUCTURED_REPLIES["/structured_advice"],
        DOCUMENT_QUESTION: STRUCTURED_REPLIES["/structured_document"],
    }
    bot = ScriptedBot(delay=0.8, extra=extra)
    channel = PersistentSocketIOInput.from_credentials(make_credentials())
    with BackgroundServer(channel, bot) as server:
        yield server


class Widget:
    """The widget on a page, seen the way a person sees it."""

    def __init__(self, driver: Any, timeout: float = WAIT) -> None:
        self.driver = driver
        self.timeout = timeout

    def wait(self, condition: Callable[[], Any], what: str, timeout: Optional[float] = None) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.1).until(
            lambda _: condition(), f"timed out waiting for: {what}"
        )

    def load(self, url: str) -> "Widget":
        self.driver.get(url)
        self.wait(
            lambda: self.driver.execute_script(
                "const h = document.getElementById('debt-chat-widget');"
                "return !!(h && h.shadowRoot && !h.shadowRoot.querySelector('.wrap').hidden);"
            ),
            "the widget and its stylesheet",
        )
        return self

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, "debt-chat-widget").shadow_root.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> List[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, "debt-chat-widget").shadow_root.find_elements(By.CSS_SELECTOR, css)

    def is_open(self) -> bool:
        return self.find(".panel").is_displayed()

    def open(self) -> None:
        if not self.is_open():
            self.find(".launcher").click()
        self.wait(self.is_open, "the chat panel")

    def messages(self) -> List[Dict[str, Any]]:
        return self.driver.execute_script(READ_LOG)

    def type_and_send(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.find("textarea")
        box.click()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def typing_shown(self) -> bool:
        shown = self.find_all(".typing")
        return bool(shown) and shown[0].is_displayed()

    def wait_for_bot_after(self, count: int, what: str) -> List[Dict[str, Any]]:
        """Wait until a bot turn that came after message `count` is complete (typing gone)."""
        self.wait(
            lambda: any(m["from"] == "bot" for m in self.messages()[count:]) and not self.typing_shown(),
            what,
        )
        time.sleep(0.3)  # a reply split in parts arrives as several events
        return self.messages()


def test_conversation_quick_reply_and_persistence_across_reload(make_driver, local_server):
    _conversation(make_driver, REAL_SERVER or local_server.base_url, None if REAL_SERVER else local_server.bot)


def test_the_real_bot_in_the_browser(make_driver, real_bot_url):
    """The same conversation against `make run`'s server with the trained model and action server."""
    _conversation(make_driver, real_bot_url, None)


def _conversation(make_driver, base: str, bot) -> None:
    driver = make_driver(390, 844)
    widget = Widget(driver).load(base + PAGE)

    # On a phone the launcher opens the chat full screen.
    widget.open()
    panel = widget.find(".panel").rect
    assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, 390, 844)
    assert not widget.find(".launcher").is_displayed()
    assert widget.find("textarea").get_attribute("placeholder") == "请输入你的问题…"
    assert widget.find(".send").text == "发送"

    # Ask; the typing indicator shows while waiting; the answer cites the law.
    before = len(widget.messages())
    widget.type_and_send(QUESTION)
    widget.wait(
        lambda: widget.messages()[before:][:1] == [{"from": "user", "text": QUESTION, "quick": []}],
        "the question as the user's bubble",
    )
    if bot is not None:
        assert widget.typing_shown(), "typing indicator while the bot is thinking"
    messages = widget.wait_for_bot_after(before + 1, "the bot's answer")
    answer = messages[before + 1 :]
    assert any(EXPECT in m["text"] for m in answer), answer
    quick = answer[-1]["quick"]
    assert quick, "quick replies under the answer"
    if bot is not None:
        assert quick == [q["title"] for q in QUICK_REPLIES]
        assert len(answer) == 1 and "\n" in answer[0]["text"]  # one bubble per utterance, newlines kept
        bubble = widget.find_all(".row.bot .bubble")[-1]
        assert bubble.value_of_css_property("white-space") == "pre-wrap"
    save_screenshot(driver)  # the first answer with its quick replies, as a person sees it

    # A quick reply: its title becomes the user's bubble, its payload goes to the bot.
    title = quick[0]
    before = len(widget.messages())
    next(b for b in widget.find_all(".quick .reply") if b.text == title).click()
    messages = widget.wait_for_bot_after(before + 1, "the quick reply's answer")
    assert messages[before] == {"from": "user", "text": title, "quick": []}
    assert not widget.find_all(".quick .reply") or messages[-1]["quick"], "used quick replies go away"
    if bot is not None:
        assert messages[before + 1]["text"] == PAYLOAD_ANSWERS[QUICK_REPLIES[0]["payload"]]
        assert [c.text for c in bot.calls] == [QUESTION, QUICK_REPLIES[0]["payload"]]

    session_id = driver.execute_script(STORED_SESSION)
    assert session_id
    if bot is not None:
        assert bot.sender_ids == [session_id, session_id]
    history = widget.messages()

    # Reload: the conversation is still there, and a new message still gets its reply.
    driver.refresh()
    widget.load(driver.current_url)
    widget.wait(widget.is_open, "the chat still open after reload")
    assert widget.messages() == history
    assert driver.execute_script(STORED_SESSION) == session_id

    before = len(history)
    widget.type_and_send(FOLLOW_UP)
    messages = widget.wait_for_bot_after(before + 1, "a reply after the reload (session persistence)")
    assert messages[before]["text"] == FOLLOW_UP
    if bot is not None:
        assert CITATION in messages[-1]["text"]
        assert bot.sender_ids == [session_id] * 3


def test_bot_text_is_shown_as_text_never_as_html(make_driver, local_server):
    driver = make_driver(390, 844)
    widget = Widget(driver, timeout=10).load(local_server.base_url + PAGE)
    widget.open()
    before = len(widget.messages())
    widget.type_and_send("/html")
    messages = widget.wait_for_bot_after(before + 1, "the HTML-looking answer")
    assert messages[-1]["text"] == HTML_ANSWER
    assert widget.find_all(".log img") == []
    assert widget.find_all(".log b") == []
    assert driver.execute_script("return window.__xss") is None
    # The newline is a line break on screen.
    assert widget.find_all(".row.bot .bubble")[-1].text.splitlines() == HTML_ANSWER.splitlines()


def test_desktop_shows_a_floating_launcher_and_a_panel(make_driver, local_server):
    driver = make_driver(1280, 800, scale=1, mobile=False)
    widget = Widget(driver, timeout=10).load(local_server.base_url + PAGE)
    launcher = widget.find(".launcher")
    assert launcher.is_displayed() and not widget.is_open()
    assert launcher.value_of_css_property("position") == "fixed"
    widget.open()
    panel = widget.find(".panel").rect
    assert panel["width"] == 380 and panel["height"] < 800
    assert panel["x"] + panel["width"] < 1280 and panel["x"] > 800
    assert launcher.is_displayed()
    launcher.click()  # toggles it closed
    widget.wait(lambda: not widget.is_open(), "the panel closed")


def test_two_tabs_of_the_site_show_one_history_without_duplicates(make_driver, local_server):
    """Every tab joins the session's room and hears each reply; it is recorded once."""
    driver = make_driver(390, 844)
    url = local_server.base_url + PAGE
    first = Widget(driver, timeout=10).load(url)
    first.open()
    tab_a = driver.current_window_handle
    driver.switch_to.new_window("tab")
    second = Widget(driver, timeout=10).load(url)
    second.wait(second.is_open, "the second tab opens the chat too (open state is shared)")
    second.wait(lambda: driver.execute_script(STORED_SESSION) is not None, "the session")

    driver.switch_to.window(tab_a)
    before = len(first.messages())
    first.type_and_send("/ask_criminal_risk")
    messages = first.wait_for_bot_after(before + 1, "the answer in the first tab")
    time.sleep(2.5)  # longer than the other tabs' wait before they record a reply themselves
    messages = first.messages()

    driver.switch_to.window(driver.window_handles[-1])
    second.wait(lambda: second.messages() == messages, "the same conversation in the second tab")
    stored = driver.execute_script(
        "const k = Object.keys(localStorage).find(k => k.endsWith(':history'));"
        "return JSON.parse(localStorage.getItem(k)).map(m => m.text);"
    )
    assert stored.count(PAYLOAD_ANSWERS["/ask_criminal_risk"]) == 1
    assert stored.count("/ask_criminal_risk") == 1
    assert len(set(local_server.bot.sender_ids)) == 1


# --- structured answers (custom.structured) ------------------------------------------------

SHADOW = "const root = document.getElementById('debt-chat-widget').shadowRoot;"


def _ask(widget: Widget, text: str) -> Any:
    """Send `text`; return the bot's last bubble once the answer is there."""
    before = len(widget.messages())
    widget.type_and_send(text)
    widget.wait_for_bot_after(before + 1, f"the answer to {text!r}")
    return widget.find_all(".row.bot .bubble")[-1]


def _weight(element: Any) -> int:
    return int(element.value_of_css_property("font-weight"))


def _fits_the_phone(widget: Widget, card: Any) -> None:
    rect = card.rect
    assert rect["x"] >= 0 and rect["x"] + rect["width"] <= PHONE[0], rect
    assert widget.driver.execute_script(
        SHADOW + "const l = root.querySelector('.log');return l.scrollWidth <= l.clientWidth;"
    ), "no sideways scrolling"


def _show_card(widget: Widget, card: Any) -> None:
    row = card.find_element("xpath", "../..")
    widget.driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", row)
    time.sleep(0.4)  # (smooth scrolling of an opened <details>)


def test_structured_advice_is_one_card_on_a_phone(make_driver, local_server):
    from selenium.webdriver.common.by import By

    driver = make_driver(*PHONE)
    widget = Widget(driver, timeout=10).load(local_server.base_url + PAGE)
    widget.open()
    card = _ask(widget, ADVICE_QUESTION)
    advice = STRUCTURED_ADVICE
    assert "structured" in card.get_attribute("class").split()
    assert len(widget.find_all(".row.bot .bubble.structured")) == 1  # one bubble, not text + payload

    # The short answer stands out from the paragraphs after it.
    answer = card.find_element(By.CSS_SELECTOR, ".answer")
    note = card.find_element(By.CSS_SELECTOR, "p.para")
    assert answer.text == advice["answer"] and note.text == advice["notes"][0]
    assert _weight(answer) >= 600 > _weight(note)
    assert answer.value_of_css_property("background-color") != card.value_of_css_property("background-color")

    # Steps are an ordered list.
    steps = card.find_element(By.CSS_SELECTOR, "ol.steps")
    assert [li.text for li in steps.find_elements(By.CSS_SELECTOR, ":scope > li")] == advice["steps"]

    # The legal basis is collapsed and opens on a tap.
    basis = card.find_element(By.CSS_SELECTOR, "details.basis")
    summary = basis.find_element(By.CSS_SELECTOR, "summary")
    items = basis.find_elements(By.CSS_SELECTOR, ".basis-list > li")
    assert summary.text == "法律依据（3条）"
    assert basis.get_attribute("open") is None and not any(li.is_displayed() for li in items)
    summary.click()
    widget.wait(lambda: all(li.is_displayed() for li in items), "the legal basis opened")
    exact, gist, soft = (li.text for li in items)
    law = advice["basis"]
    assert exact == f"{CITATION}：“{law[0]['quote']}”"
    assert gist == f"{law[1]['citation']}（大意）：{law[1]['quote']}" and "“" not in gist
    assert soft.startswith(f"{SOFT_LAW_CITATION}（大意）：{law[2]['quote']}")
    assert soft.count("不是法律") == 1 and "行业规范或推荐标准" in soft
    assert _weight(items[0].find_element(By.CSS_SELECTOR, ".citation")) >= 600

    # Help lines: a tel: link where there is a number, plain text where there is none.
    lines = card.find_elements(By.CSS_SELECTOR, ".help-list > li")
    assert [li.text for li in lines] == [f"{h['name']}：{h['contact']}" for h in advice["help"]]
    links = card.find_elements(By.CSS_SELECTOR, ".help-list a")
    assert [(a.get_attribute("href"), a.text) for a in links] == [("tel:110", "110"), ("tel:12378", "12378")]
    assert lines[2].find_elements(By.CSS_SELECTOR, "a") == []

    # The disclaimer is small and grey.
    disclaimer = card.find_element(By.CSS_SELECTOR, ".disclaimer")
    assert disclaimer.text == advice["disclaimer"]
    assert float(disclaimer.value_of_css_property("font-size")[:-2]) < float(
        note.value_of_css_property("font-size")[:-2]
    )
    assert disclaimer.value_of_css_property("color") != note.value_of_css_property("color")

    # Buttons and the "you also mentioned" offers are quick replies like the others.
    titles = [b["title"] for b in ADVICE_BUTTONS + ADVICE_ALSO]
    assert widget.messages()[-1]["quick"] == titles
    _fits_the_phone(widget, card)
    _show_card(widget, card)
    save_screenshot(driver, SCREENSHOT_ADVICE)

    # After a reload the card is rebuilt from the stored history.
    driver.refresh()
    widget.load(driver.current_url)
    widget.wait(lambda: widget.find_all(".bubble.structured .answer"), "the card after the reload")
    assert widget.find(".bubble.structured .answer").text == advice["answer"]
    assert widget.messages()[-1]["quick"] == titles

    before = len(widget.messages())
    next(b for b in widget.find_all(".quick .reply") if b.text == ADVICE_ALSO[0]["title"]).click()
    messages = widget.wait_for_bot_after(before + 1, "the answer to the offer")
    assert messages[before]["text"] == ADVICE_ALSO[0]["title"]
    assert local_server.bot.calls[-1].text == ADVICE_ALSO[0]["payload"]


def test_structured_document_can_be_copied_and_downloaded(make_driver, local_server, tmp_path):
    from selenium.webdriver.common.by import By

    driver = make_driver(*PHONE)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    widget = Widget(driver, timeout=10).load(local_server.base_url + PAGE)
    widget.open()
    card = _ask(widget, DOCUMENT_QUESTION)
    document = STRUCTURED_DOCUMENT["document"]
    assert card.find_element(By.CSS_SELECTOR, ".answer").text == STRUCTURED_DOCUMENT["answer"]
    assert card.find_element(By.CSS_SELECTOR, ".doc-title").text == document["title"]
    body = card.find_element(By.CSS_SELECTOR, "pre.doc-body")
    assert body.get_attribute("textContent") == DOCUMENT_BODY
    assert body.value_of_css_property("white-space") == "pre-wrap"
    _fits_the_phone(widget, card)
    _show_card(widget, card)
    save_screenshot(driver, SCREENSHOT_DOCUMENT)

    # 下载: a blob: (or data:) link to a .txt file, UTF-8 with BOM, that really downloads.
    link = card.find_element(By.CSS_SELECTOR, "a.doc-download")
    assert link.text == "下载"
    assert link.get_attribute("href").startswith(("blob:", "data:"))
    assert link.get_attribute("download") == "协商还款申请书.txt"
    link.click()
    saved = downloads / "协商还款申请书.txt"
    widget.wait(lambda: saved.exists() and saved.stat().st_size > 0, "the downloaded file")
    assert saved.read_bytes() == b"\xef\xbb\xbf" + DOCUMENT_BODY.encode("utf-8")

    # 复制 with the async clipboard (stubbed: headless Chromium has no real one).
    copy = card.find_element(By.CSS_SELECTOR, "button.doc-copy")
    assert copy.text == "复制"
    driver.execute_script(
        "Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {writeText: function (t) {"
        "  window.__copied = t; return Promise.resolve(); }}});"
    )
    copy.click()
    widget.wait(lambda: copy.text == "已复制", "the copied confirmation")
    assert driver.execute_script("return window.__copied") == DOCUMENT_BODY

    # Without it (old in-app browsers): the old copy command, and if that fails the text is selected.
    driver.execute_script(
        "Object.defineProperty(navigator, 'clipboard', {configurable: true, value: undefined});"
        "window.__commands = []; document.execCommand = function (c) { window.__commands.push(c); return false; };"
        "window.getSelection().removeAllRanges();"
    )
    widget.wait(lambda: copy.text == "复制", "the button back to 复制")
    copy.click()
    widget.wait(lambda: copy.text == "已选中，请长按复制", "the hint to copy by hand")
    assert driver.execute_script("return window.__commands") == ["copy"]
    assert driver.execute_script("return window.getSelection().toString()") == DOCUMENT_BODY


def test_structured_fields_are_shown_as_text_never_as_html(make_driver, local_server):
    from selenium.webdriver.common.by import By

    driver = make_driver(*PHONE)
    widget = Widget(driver, timeout=10).load(local_server.base_url + PAGE)
    widget.open()
    card = _ask(widget, "/structured_hostile")
    card.find_element(By.CSS_SELECTOR, "details.basis summary").click()
    assert card.find_element(By.CSS_SELECTOR, ".answer").text == '<img src=x onerror="window.__xss=1">答案'
    assert card.find_element(By.CSS_SELECTOR, ".basis-list li").text == (
        '<i>条文</i>：“<img src=x onerror="window.__xss=1">引文”'
    )
    assert card.find_element(By.CSS_SELECTOR, "pre.doc-body").text == '<img src=x onerror="window.__xss=1">正文'
    assert card.find_element(By.CSS_SELECTOR, ".disclaimer").text == "<script>window.__xss=4</script>"
    for tag in ("img", "b", "i", "u", "h1", "script"):
        assert widget.find_all(f".log {tag}") == [], tag
    hrefs = [a.get_attribute("href") for a in widget.find_all(".log a")]
    assert hrefs == [hrefs[-1]] and hrefs[-1].startswith("blob:"), hrefs  # the download link only
    assert widget.find(".help-list li").text == "<u>热线</u>：12378"  # a bad tel is no link
    name = widget.find("a.doc-download").get_attribute("download")
    assert name.endswith(".txt") and not any(c in name for c in "/\\<>")
    for control in widget.find_all(".log summary, .log button"):
        control.click()
    time.sleep(0.5)
    assert driver.execute_script("return window.__xss") is None


def test_messages_without_a_readable_structured_payload_show_their_text(make_driver, local_server):
    driver = make_driver(*PHONE)
    widget = Widget(driver, timeout=10).load(local_server.base_url + PAGE)
    widget.open()
    bubble = _ask(widget, "/structured_future")  # a version this widget does not know
    assert bubble.text == STRUCTURED_REPLIES["/structured_future"][0]["text"]
    assert widget.find_all(".bubble.structured") == []

    card = _ask(widget, "/structured_traditional")  # labels follow the answer's script
    assert card.find_element("css selector", ".section .heading").text == "現在可以這樣做"
    assert card.find_element("css selector", "details.basis summary").text == "法律依據（1條）"


def test_widget_never_parses_bot_text_as_html():
    """The rule behind the browser checks: DOM built with createElement/textContent only."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    sinks = r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\s*\(|new Function|DOMParser"
    assert re.findall(sinks, source) == []
    assert "textContent" in source and "createElement" in source
