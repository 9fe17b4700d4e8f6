"""WeChat channel driven over HTTP as WeChat's servers drive it."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from rasa.core.run import create_http_input_channels

from addons.channels.wechat.identity import sender_id_for
from addons.channels.wechat.menus import parse_choice
from addons.channels.wechat.request_guard import MAX_BODY_BYTES
from addons.channels.wechat.text_format import MAX_CONTENT_BYTES, sanitize, split_utf8
from addons.channels.wechat_channel import WeChatInput
from addons.messages import NOT_TEXT, SERVICE_UNAVAILABLE, load_messages

from .wechat_harness import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    OPENID,
    TOKEN,
    ScriptedBot,
    event_xml,
    fake_wechat_api,
    image_xml,
    make_channel,
    run,
    serve_channel,
    sign,
    text_xml,
    voice_xml,
)

ROOT = Path(__file__).resolve().parents[2]
NOT_TEXT_REPLY = load_messages()[NOT_TEXT]
BOTH_MODES = pytest.mark.parametrize("safe_mode", [False, True], ids=["plaintext", "safe"])


# --- URL verification -------------------------------------------------------


@BOTH_MODES
def test_url_verification_echoes_echostr(safe_mode):
    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode), ScriptedBot()) as wechat:
            reply = await wechat.verify("1234567890123456789")
            assert reply.status == 200
            assert (await reply.text()) == "1234567890123456789"
            async with wechat.session.get(wechat.base_url + "/webhooks/wechat/") as health:
                assert (await health.json()) == {"status": "ok"}

    run(scenario())


def test_url_verification_with_forged_signature_is_refused():
    async def scenario():
        async with serve_channel(make_channel(), ScriptedBot()) as wechat:
            forged = await wechat.verify("42", signature="0" * 40)
            assert forged.status == 403
            async with wechat.session.get(wechat.base_url + "/webhooks/wechat/webhook?echostr=42") as missing:
                assert missing.status == 403
                assert "42" not in await missing.text()

    run(scenario())


# --- text messages ------------------------------------------------------------


@BOTH_MODES
def test_text_message_gets_the_bot_answer_as_passive_reply(safe_mode):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode), bot) as wechat:
            status, body, params = await wechat.post(text_xml("你好"))
            assert status == 200
            reply = wechat.read_reply(body, params)
            assert reply["MsgType"] == "text"
            assert reply["Content"] == "收到：你好"
            assert reply["ToUserName"] == OPENID
            assert reply["FromUserName"] == "gh_0123456789ab"

    run(scenario())
    assert bot.texts == ["你好"]
    call = bot.calls[0]
    assert call.input_channel == "wechat"
    assert call.sender_id == sender_id_for(OPENID, APP_SECRET)
    assert OPENID not in call.sender_id and call.sender_id != "1001"


def test_sender_id_is_stable_per_user_and_not_the_msgid():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            await wechat.post(text_xml("一", msg_id=1))
            await wechat.post(text_xml("二", msg_id=2))
            await wechat.post(text_xml("三", msg_id=3, openid="oOther_user_000000000000000"))

    run(scenario())
    first, second, other = (call.sender_id for call in bot.calls)
    assert first == second != other
    assert first.startswith("wx-") and len(first) == 35


# --- refused requests -----------------------------------------------------------


@BOTH_MODES
def test_forged_signature_is_refused_and_bot_not_called(safe_mode):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode), bot) as wechat:
            params = wechat.query()
            params["signature"] = sign("wrong-token", params["timestamp"], params["nonce"])
            status, _, _ = await wechat.post(text_xml("伪造"), params=params)
            assert status == 403

    run(scenario())
    assert bot.calls == []


def test_forged_msg_signature_in_safe_mode_is_refused():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=True), bot) as wechat:
            status, _, _ = await wechat.post(text_xml("伪造"), params=wechat.query(msg_signature="f" * 40))
            assert status == 403
            # A plaintext body (no msg_signature at all) is refused in safe mode too.
            params = wechat.query()
            status, _, _ = await wechat.post("", params=params, raw_body=text_xml("明文").encode())
            assert status == 403

    run(scenario())
    assert bot.calls == []


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
def test_missing_query_parameter_is_refused(missing):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            params = wechat.query()
            del params[missing]
            status, _, _ = await wechat.post(text_xml("你好"), params=params)
            assert status == 403
            status, _, _ = await wechat.post(text_xml("你好"), params={})
            assert status == 403

    run(scenario())
    assert bot.calls == []


def test_channel_without_token_refuses_everything():
    bot = ScriptedBot()
    channel = WeChatInput(token="")

    async def scenario():
        async with serve_channel(channel, bot) as wechat:
            status, _, _ = await wechat.post(text_xml("你好"))
            assert status == 403
            assert (await wechat.verify("1")).status == 403

    run(scenario())
    assert bot.calls == []


def test_stale_timestamp_is_refused():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            for skew in (-301, 301):
                params = wechat.query(timestamp=int(time.time()) + skew)
                status, _, _ = await wechat.post(text_xml("旧的", msg_id=10 + skew), params=params)
                assert status == 403
            status, _, _ = await wechat.post(text_xml("新的"), params=wechat.query(timestamp=int(time.time()) - 200))
            assert status == 200

    run(scenario())
    assert bot.texts == ["新的"]


def test_replayed_nonce_with_another_body_is_refused():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            params = wechat.query()
            genuine = text_xml("转账一百", msg_id=7)
            status, first_body, _ = await wechat.post(genuine, params=params)
            assert status == 200
            status, _, _ = await wechat.post(text_xml("转账一万", msg_id=8), params=params)
            assert status == 403
            # The very same request again (a retry or a replay) is answered once only.
            status, again_body, _ = await wechat.post(genuine, params=params)
            assert status == 200 and again_body == first_body

    run(scenario())
    assert bot.texts == ["转账一百"]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>oUser</FromUserName>"
    "<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>oUser</FromUserName><MsgType>text</MsgType><Content>&e;</Content></xml>"
)


@BOTH_MODES
@pytest.mark.parametrize(
    "xml",
    [
        "<xml><ToUserName>unclosed",
        "not xml at all",
        "<other>root</other>",
        "<xml/>",
        "<xml><MsgType><a>1</a></MsgType></xml>",
        "<xml><FromUserName>oUser</FromUserName><MsgType>text</MsgType><MsgId>x</MsgId></xml>",
        "<xml><FromUserName>a]]&gt;b</FromUserName><ToUserName>gh</ToUserName><MsgType>text</MsgType></xml>",
        "",
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
    ],
    ids=["unclosed", "text", "root", "empty-xml", "nested", "msgid", "sender", "empty", "laughs", "external"],
)
def test_malformed_or_hostile_xml_is_a_400(safe_mode, xml, caplog):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode), bot) as wechat:
            status, _, _ = await wechat.post(xml)
            assert status == 400
            # The server is still fine afterwards.
            status, _, _ = await wechat.post(text_xml("还在吗"))
            assert status == 200

    with caplog.at_level(logging.WARNING, logger="addons.channels.wechat_channel"):
        run(scenario())
    assert bot.texts == ["还在吗"]
    assert any("refused" in record.getMessage() for record in caplog.records)


def test_garbage_encrypt_in_safe_mode_is_a_400():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=True), bot) as wechat:
            for encrypt in ("!!!not-base64!!!", "QUJD", "A" * 64):
                params = wechat.query()
                params["msg_signature"] = sign(TOKEN, params["timestamp"], params["nonce"], encrypt)
                body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
                status, _, _ = await wechat.post("", params=params, raw_body=body)
                assert status == 400

    run(scenario())
    assert bot.calls == []


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 900 * 1024])
def test_oversized_body_is_a_400(size, caplog):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            padding = "好" * (size // 3 + 1)
            status, _, _ = await wechat.post("", raw_body=text_xml(padding).encode()[:size])
            assert status == 400
            status, _, _ = await wechat.post(text_xml("小消息"))
            assert status == 200

    with caplog.at_level(logging.WARNING, logger="addons.channels.wechat_channel"):
        run(scenario())
    assert bot.texts == ["小消息"]
    assert any("64 KB" in record.getMessage() for record in caplog.records)


def test_huge_body_is_refused_without_reading_it_all():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            try:
                status, _, _ = await wechat.post("", raw_body=b"<xml>" + b"A" * (8 * 1024 * 1024))
                assert status == 400
            except (aiohttp.ClientError, ConnectionError):
                pass  # closed before the client finished sending: also a refusal
            status, _, _ = await wechat.post(text_xml("小消息"))
            assert status == 200

    run(scenario())
    assert bot.texts == ["小消息"]


# --- retries and slow answers ---------------------------------------------------------


@BOTH_MODES
def test_retry_while_first_is_in_flight_runs_the_bot_once(safe_mode):
    bot = ScriptedBot(delay=0.4)

    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode, reply_timeout=3.0), bot) as wechat:
            xml = text_xml("查询进度", msg_id=555)
            first = asyncio.ensure_future(wechat.post(xml))
            await asyncio.sleep(0.1)
            second = asyncio.ensure_future(wechat.post(xml))  # a retry: new nonce, same MsgId
            replies = await asyncio.gather(first, second)
            contents = [wechat.read_reply(body, params)["Content"] for status, body, params in replies]
            assert [status for status, _, _ in replies] == [200, 200]
            assert contents == ["收到：查询进度", "收到：查询进度"]

    run(scenario())
    assert bot.texts == ["查询进度"]


def test_slow_answer_is_success_then_pushed_once_through_customer_service_api():
    bot = ScriptedBot(delay=0.6)

    async def scenario():
        async with fake_wechat_api() as api:
            async with serve_channel(make_channel(api, reply_timeout=0.2), bot) as wechat:
                xml = text_xml("慢慢说", msg_id=777)
                status, body, _ = await wechat.post(xml)  # answered before the bot is done
                assert (status, body) == (200, "success")
                status, body, _ = await wechat.post(xml)  # WeChat retry while the bot still works
                assert (status, body) == (200, "success")
                sent = await api.wait_for_sent(1)
                await asyncio.sleep(0.3)  # nothing more arrives
                assert sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "收到：慢慢说"}}]
                assert api.tokens_issued == ["ACCESS_TOKEN_1"]
                assert api.send_tokens == ["ACCESS_TOKEN_1"]
                # A retry after the push: still no second answer.
                status, body, _ = await wechat.post(xml)
                assert (status, body) == (200, "success")
                await asyncio.sleep(0.1)
                assert len(api.sent) == 1

    run(scenario())
    assert bot.texts == ["慢慢说"]


def test_invalid_access_token_is_refreshed_and_the_send_retried_once():
    bot = ScriptedBot(delay=0.4)

    async def scenario():
        async with fake_wechat_api(reject_first_send_with=40001) as api:
            async with serve_channel(make_channel(api, reply_timeout=0.1), bot) as wechat:
                status, body, _ = await wechat.post(text_xml("令牌过期", msg_id=888))
                assert body == "success"
                sent = await api.wait_for_sent(1)
                assert [m["text"]["content"] for m in sent] == ["收到：令牌过期"]
                assert api.tokens_issued == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_2"]
                assert api.send_tokens == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_2"]

    run(scenario())


def test_outside_48h_window_is_logged_and_dropped(caplog):
    bot = ScriptedBot(delay=0.3)

    async def scenario():
        async with fake_wechat_api(reject_first_send_with=45015) as api:
            async with serve_channel(make_channel(api, reply_timeout=0.05), bot) as wechat:
                status, body, _ = await wechat.post(text_xml("很久以后", msg_id=999))
                assert body == "success"
                await asyncio.sleep(0.8)
                assert api.sent == [] and api.send_tokens == ["ACCESS_TOKEN_1"]

    with caplog.at_level(logging.WARNING, logger="addons.channels.wechat.cs_client"):
        run(scenario())
    assert any("45015" in record.getMessage() for record in caplog.records)


def test_bot_failure_gives_the_shared_service_unavailable_text_not_a_500():
    def broken(text):
        raise RuntimeError("model not loaded")

    async def scenario():
        async with serve_channel(make_channel(), ScriptedBot(answer=broken)) as wechat:
            status, body, params = await wechat.post(text_xml("你好"))
            assert status == 200
            assert wechat.read_reply(body, params)["Content"] == load_messages()[SERVICE_UNAVAILABLE]

    run(scenario())


# --- buttons and long answers -------------------------------------------------------------


def menu_bot(text):
    if text.startswith("/"):
        return [{"text": f"payload {text}"}]
    return [
        {
            "text": "请选择：",
            "buttons": [
                {"title": "查询余额", "payload": "/check_balance"},
                {"title": "协商还款", "payload": '/negotiate{"plan":"installment"}'},
            ],
        }
    ]


@pytest.mark.parametrize("choice", ["2", "２", "2.", "2。", "（2）"])
def test_buttons_become_a_numbered_menu_and_the_number_maps_back(choice):
    bot = ScriptedBot(answer=menu_bot)

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            status, body, params = await wechat.post(text_xml("帮帮我", msg_id=1))
            assert wechat.read_reply(body, params)["Content"] == "请选择：\n回复 1 查询余额\n回复 2 协商还款"
            status, body, params = await wechat.post(text_xml(choice, msg_id=2))
            assert wechat.read_reply(body, params)["Content"] == 'payload /negotiate{"plan":"installment"}'
            # The answer had no buttons: the menu is gone and "1" is plain text again.
            await wechat.post(text_xml("1", msg_id=3))

    run(scenario())
    assert bot.texts == ["帮帮我", '/negotiate{"plan":"installment"}', "1"]


def test_menu_is_per_user_and_out_of_range_numbers_stay_text():
    bot = ScriptedBot(answer=menu_bot)

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            await wechat.post(text_xml("帮帮我", msg_id=1))
            await wechat.post(text_xml("1", msg_id=2, openid="oOther_user_000000000000000"))
            await wechat.post(text_xml("3", msg_id=3))

    run(scenario())
    assert bot.texts == ["帮帮我", "1", "3"]


def test_long_answer_is_split_first_piece_passive_rest_pushed():
    paragraph = "债务人依法享有的权利包括知情权与协商权。" * 40  # about 2.4 KB per line
    long_text = "\n".join([paragraph] * 2)
    bot = ScriptedBot(answer=lambda text: [{"text": long_text}])

    async def scenario():
        async with fake_wechat_api() as api:
            async with serve_channel(make_channel(api), bot) as wechat:
                status, body, params = await wechat.post(text_xml("长一点"))
                first = wechat.read_reply(body, params)["Content"]
                await api.wait_for_sent(3)
                await asyncio.sleep(0.2)
                rest = [m["text"]["content"] for m in api.sent]
                return first, rest

    first, rest = run(scenario())
    pieces = [first] + rest
    assert all(len(p.encode("utf-8")) <= MAX_CONTENT_BYTES for p in pieces)
    assert "".join(pieces) == long_text.replace("\n", "")
    assert len(pieces) == 4


def test_split_utf8_keeps_characters_whole_and_prefers_line_breaks():
    assert split_utf8("短句") == ["短句"]
    text = "甲" * 700 + "\n" + "乙" * 700
    assert split_utf8(text) == ["甲" * 682, "甲" * 18, "乙" * 682, "乙" * 18]
    pieces = split_utf8("一二三\n四五六", limit=10)
    assert pieces == ["一二三", "四五六"]
    assert split_utf8("€" * 5, limit=7) == ["€€", "€€", "€"]


def test_sanitize_breaks_cdata_terminators_and_control_characters():
    assert sanitize("a]]><MsgType>x\x00\x07") == "a]] ><MsgType>x"


def test_bot_text_cannot_inject_into_the_reply_xml():
    bot = ScriptedBot(answer=lambda text: [{"text": "看这里]]></Content><MsgType>image</MsgType><Content><![CDATA["}])

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            status, body, params = await wechat.post(text_xml("注入"))
            reply = wechat.read_reply(body, params)
            assert reply["MsgType"] == "text"
            assert reply["Content"].startswith("看这里]] >")

    run(scenario())


@pytest.mark.parametrize(
    "text, number",
    [("1", 1), ("１", 1), ("1.", 1), (" 3、", 3), ("(2)", 2), ("12", 12), ("1.5", None), ("一", None), ("", None)],
)
def test_parse_choice(text, number):
    assert parse_choice(text) == number


# --- events and other message types -----------------------------------------------------


@BOTH_MODES
def test_subscribe_sends_the_welcome(safe_mode):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode), bot) as wechat:
            status, body, params = await wechat.post(event_xml("subscribe"))
            assert wechat.read_reply(body, params)["Content"] == "收到：/greet"
            # WeChat's retry of the event (same FromUserName + CreateTime): no second turn.
            status, body, params = await wechat.post(event_xml("subscribe"))
            assert wechat.read_reply(body, params)["Content"] == "收到：/greet"

    run(scenario())
    assert bot.texts == ["/greet"]


def test_unsubscribe_and_other_events_get_success_without_the_bot():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            for event in ("unsubscribe", "VIEW", "LOCATION"):
                status, body, _ = await wechat.post(event_xml(event))
                assert (status, body) == (200, "success")

    run(scenario())
    assert bot.calls == []


@BOTH_MODES
def test_image_gets_a_friendly_text_and_the_bot_is_not_called(safe_mode):
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(safe_mode=safe_mode), bot) as wechat:
            status, body, params = await wechat.post(image_xml())
            assert status == 200
            assert wechat.read_reply(body, params)["Content"] == NOT_TEXT_REPLY

    run(scenario())
    assert bot.calls == []


def test_voice_recognition_text_goes_to_the_bot():
    bot = ScriptedBot()

    async def scenario():
        async with serve_channel(make_channel(), bot) as wechat:
            status, body, params = await wechat.post(voice_xml("催收电话太多怎么办"))
            assert wechat.read_reply(body, params)["Content"] == "收到：催收电话太多怎么办"
            status, body, params = await wechat.post(voice_xml("", msg_id=3002))
            assert "文字" in wechat.read_reply(body, params)["Content"]

    run(scenario())
    assert bot.texts == ["催收电话太多怎么办"]


# --- configuration --------------------------------------------------------------------------


def test_from_credentials_tolerates_empty_and_unexpanded_values(no_wechat_env):
    channel = WeChatInput.from_credentials(
        {"token": "tok", "app_id": "", "app_secret": None, "aes_key": "${WECHAT_AES_KEY}"}
    )
    assert channel.token == "tok" and not channel.safe_mode
    assert WeChatInput.from_credentials(None).token == ""
    safe = WeChatInput.from_credentials(
        {"token": "tok", "app_id": APP_ID, "app_secret": APP_SECRET, "aes_key": AES_KEY, "reply_timeout": "2"}
    )
    assert safe.safe_mode and safe.reply_timeout == 2.0


def test_values_missing_from_credentials_come_from_addons_settings(no_wechat_env, monkeypatch):
    import addons.settings

    settings = SimpleNamespace(
        wechat_token="env-token",
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_aes_key=AES_KEY,
        wechat_api_base_url="http://127.0.0.1:9",
        wechat_reply_timeout=3.5,
    )
    monkeypatch.setattr(addons.settings, "load_settings", lambda: settings, raising=False)
    channel = WeChatInput.from_credentials({"token": "credentials-token", "aes_key": ""})
    assert channel.token == "credentials-token"  # a value in credentials.yml wins
    assert channel.safe_mode and channel.app_id == APP_ID and channel.reply_timeout == 3.5


def test_invalid_aes_key_is_a_clear_configuration_error(no_wechat_env):
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeChatInput(token="tok", app_id=APP_ID, aes_key="short")
    with pytest.raises(ValueError, match="app_id"):
        WeChatInput(token="tok", aes_key=AES_KEY)


def test_project_credentials_file_loads_with_no_wechat_variables_set(no_wechat_env):
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    wechat = [channel for channel in channels if isinstance(channel, WeChatInput)]
    assert len(wechat) == 1 and wechat[0].url_prefix() == "wechat"
