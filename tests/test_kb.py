"""Integrity of the legal knowledge base (actions/knowledge/*.yml)."""
from __future__ import annotations

import copy
import datetime
import re
import string
from pathlib import Path

import pytest
import yaml

from actions.guidance.kb import ARTICLE_CITABLE, KNOWLEDGE_DIR, KnowledgeBaseError, build_kb, load_kb

from tests.contract import ADVISORY_INTENTS

REPO = Path(__file__).resolve().parents[1]
LAWS_DIR = REPO.parent / "shared" / "laws"

CANONICAL_BANKS = [
    "工商银行", "农业银行", "中国银行", "建设银行", "交通银行", "招商银行", "中信银行", "浦发银行",
    "民生银行", "光大银行", "兴业银行", "平安银行", "华夏银行", "广发银行", "邮储银行",
]
RELATIONS = ["父母", "配偶", "子女", "兄弟姐妹", "亲戚", "朋友", "同事", "单位", "领导", "邻居", "通讯录", "紧急联系人", "物业", "村委会"]
BEHAVIORS = [
    "威胁", "辱骂", "频繁来电", "爆通讯录", "泼油漆", "堵门", "砸门", "闯入", "拒不离开", "冒充警察", "冒充法院",
    "不出示证件", "跟踪", "殴打", "限制自由", "损坏财物", "张贴", "深夜催收", "上门", "索要额外费用", "转账私人账户", "曝光隐私",
]
LABEL_KEYS = {
    "steps_heading", "basis_heading", "basis_also", "basis_etc", "help_heading", "bank_help", "disclaimer", "basis_button",
    "basis_full_heading", "soft_law_note", "offer_start_collector_check", "offer_start_installment_plan",
    "offer_start_incident_log",
}
OFFERS = {
    "start_collector_check": {"ask_collector_legitimacy", "ask_how_to_respond", "ask_home_entry", "ask_visit_process"},
    "start_installment_plan": {"ask_installment_negotiation", "ask_fees_interest"},
    "start_incident_log": {
        "report_harassment", "ask_third_party_contact", "ask_collection_hours", "ask_complaint", "emergency_now", "ask_evidence",
    },
}
# Numbers legal_facts.md tags MEMORY(m)/(m-h): they must not be given to users.
UNCONFIRMED_NUMBERS = [
    "400-669-5599", "400-669-5566", "400-820-0588", "400-820-8788", "800-820-8788", "400-669-5568", "400-788-8888",
    "400-669-5577", "400-830-8003", "400-810-8866", "95568", "95595", "95511", "95508",
]
# placeholder -> fact its variant's `when` must test
PLACEHOLDER_FACT = {
    "bank": "bank", "hotline": "bank", "amount": "amount", "amount_wan": "amount",
    "monthly_income": "monthly_income", "monthly_expense": "monthly_expense",
    "overdue_days": "overdue_duration", "relation": "relation", "behavior": "behavior",
}


def _raw(name):
    with (KNOWLEDGE_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def raw():
    return {name: _raw(f"{name}.yml") for name in ("provisions", "contacts", "guidance")}


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def _variant_texts(variant):
    return [t for t in [variant.get("answer"), variant.get("note"), *(variant.get("steps") or [])] if t]


def _placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# --- guidance -------------------------------------------------------------


def test_every_advisory_intent_has_guidance(kb):
    assert set(ADVISORY_INTENTS) <= set(kb.guidance), set(ADVISORY_INTENTS) - set(kb.guidance)
    assert len(ADVISORY_INTENTS) == 18


def test_labels_are_exactly_the_ui_keys(raw):
    assert set(raw["guidance"]["labels"]) == LABEL_KEYS
    assert all(str(v).strip() for v in raw["guidance"]["labels"].values())


@pytest.mark.parametrize("intent", ADVISORY_INTENTS)
def test_base_guidance_shape(kb, intent):
    g = kb.guidance[intent]
    assert 0 < len(g.answer) <= 80, g.answer
    assert 2 <= len(g.steps) <= 5
    assert all(0 < len(s) <= 45 for s in g.steps), g.steps
    assert g.provisions and g.help
    for text in (g.answer, *g.steps):
        assert not _placeholders(text), f"{intent}: base text may not use placeholders: {text}"
    for v in g.variants:
        if v.note:
            assert len(v.note) <= 70, v.note
        if v.answer:
            assert len(v.answer) <= 80, v.answer


def test_offers_match_the_intents_that_need_them(kb):
    for offer, intents in OFFERS.items():
        assert {i for i, g in kb.guidance.items() if g.offer == offer} == intents, offer
    assert {g.offer for g in kb.guidance.values()} <= set(OFFERS) | {None}


def test_every_cited_provision_exists_with_source_and_date(kb):
    cited = set()
    for g in kb.guidance.values():
        cited.update(g.provisions)
        for v in g.variants:
            cited.update(v.provisions)
    assert cited, "nothing cited"
    for pid in cited:
        p = kb.provisions[pid]
        assert p.source.strip()
        datetime.date.fromisoformat(p.in_force)


def test_vocabulary_is_the_canonical_entity_values(raw):
    vocab = raw["guidance"]["vocabulary"]
    assert vocab["relation"] == RELATIONS
    assert vocab["behavior"] == BEHAVIORS


def test_variant_when_lists_use_only_vocabulary(raw):
    vocab = raw["guidance"]["vocabulary"]
    for intent, entry in raw["guidance"]["intents"].items():
        for variant in entry.get("variants") or []:
            for fact, test in variant["when"].items():
                if isinstance(test, list):
                    unknown = set(test) - set(vocab.get(fact, []))
                    assert not unknown, f"{intent}:{variant['id']}: {fact} values {unknown} not in vocabulary"


def test_placeholders_only_where_when_guarantees_them(raw):
    for intent, entry in raw["guidance"]["intents"].items():
        for variant in entry.get("variants") or []:
            for text in _variant_texts(variant):
                for name in _placeholders(text):
                    assert name in PLACEHOLDER_FACT, f"{intent}:{variant['id']}: unknown placeholder {{{name}}}"
                    assert PLACEHOLDER_FACT[name] in variant["when"], (
                        f"{intent}:{variant['id']}: {{{name}}} used but 'when' does not test {PLACEHOLDER_FACT[name]}"
                    )


def test_no_guaranteed_outcome_or_wrong_crime(raw):
    blob = yaml.safe_dump(raw, allow_unicode=True)
    for phrase in ("一定会坐牢", "肯定会坐牢", "一定坐牢", "肯定坐牢", "第二百九十三条之一", "催收非法债务罪"):
        assert phrase not in blob, phrase


# --- provisions -----------------------------------------------------------


def test_provision_ids_are_unique(raw):
    ids = [p["id"] for p in raw["provisions"]["provisions"]]
    assert len(ids) == len(set(ids))
    assert 35 <= len(ids) <= 60


def test_unconfirmed_tags_carry_no_article_number(raw):
    for p in raw["provisions"]["provisions"]:
        if p["verification"] not in ARTICLE_CITABLE:
            assert not p.get("article"), f"{p['id']}: {p['verification']} may not carry an article number"


def test_soft_law_is_never_cited_by_article_or_as_law(raw):
    for p in raw["provisions"]["provisions"]:
        if p["kind"] in ("self_regulation", "national_standard"):
            assert not p.get("article"), p["id"]
            assert "法" not in p["short_name"], p["id"]


def test_public_security_law_uses_the_2025_revision(raw):
    for p in raw["provisions"]["provisions"]:
        if p["short_name"] == "治安管理处罚法":
            assert p["in_force"] == "2026-01-01", p["id"]
            assert p["source"] == "shared/laws/治安管理处罚法-2025修订.md", p["id"]


@pytest.mark.parametrize("field", ["in_force"])
def test_dates_are_real_dates(raw, field):
    for p in raw["provisions"]["provisions"]:
        date = datetime.date.fromisoformat(str(p[field]))
        assert datetime.date(1982, 1, 1) <= date <= datetime.date(2026, 12, 31), p["id"]


def test_quotes_are_short_excerpts_of_the_text(raw):
    for p in raw["provisions"]["provisions"]:
        assert len(p["quote"]) <= 60, p["id"]
        pieces = [piece for piece in p["quote"].split("…") if piece]
        assert pieces, p["id"]
        for piece in pieces:
            assert piece in p["text"], f"{p['id']}: quote piece not in text: {piece}"


# --- texts against the official copies in ../shared/laws ------------------------

_NUM = "零〇一二三四五六七八九十百千"
_HEADING = re.compile(rf"^(第[{_NUM}]+条(?:之[{_NUM}]+)?)[\s\u3000]")
# the 2018 decision amending the credit-card interpretation quotes the new articles inline
_DECISION = re.compile(rf"(?:作为《解释》|将《解释》原)(第[{_NUM}]+条)(?:：|修改为：)“")


def _squash(text):
    """Drop whitespace, and the opening quote marks the 2018 decision puts before quoted paragraphs."""
    return "".join("".join(line.split()).lstrip("“") for line in text.splitlines())


def _segments(path):
    """article number -> squashed text from its heading to the next heading."""
    segments, current = {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADING.match(line.strip()) or _DECISION.search(line)
        if match:
            current = match.group(1)
            segments[current] = ""
        elif line.startswith("#"):
            current = None
        if current:
            segments[current] += _squash(line)
    return segments


def _law_backed(raw):
    return [p for p in raw["provisions"]["provisions"] if p["source"].startswith("shared/laws/")]


def test_law_backed_provisions_exist(raw):
    assert len(_law_backed(raw)) >= 30


def test_texts_are_verbatim_and_under_their_article(raw):
    if not LAWS_DIR.is_dir():
        pytest.skip(f"{LAWS_DIR} not present: cannot compare texts with the official copies")
    for p in _law_backed(raw):
        path = LAWS_DIR / p["source"].split("/", 2)[2]
        assert path.is_file(), f"{p['id']}: {path} missing"
        text = _squash(p["text"])
        assert text in _squash(path.read_text(encoding="utf-8")), f"{p['id']}: text not verbatim in {path.name}"
        segments = _segments(path)
        assert p["article"] in segments, f"{p['id']}: {p['article']} not found in {path.name}"
        assert text in segments[p["article"]], f"{p['id']}: text is not under {p['article']} in {path.name}"


def test_segment_parser_finds_known_articles():
    if not LAWS_DIR.is_dir():
        pytest.skip(f"{LAWS_DIR} not present")
    crim = _segments(LAWS_DIR / "刑法.md")
    assert crim["第二百四十五条"].startswith("第二百四十五条非法搜查他人身体")
    assert "为索取债务" not in crim["第二百四十五条"]
    interp = _segments(LAWS_DIR / "妨害信用卡管理刑事案件解释-2018修正决定.md")
    assert "两次催收至少间隔三十日" in interp["第七条"] and "两次催收至少间隔三十日" not in interp["第六条"]


# --- contacts -------------------------------------------------------------


def test_banks_cover_the_canonical_names(kb):
    names = [b.name for b in kb.banks]
    assert sorted(names) == sorted(CANONICAL_BANKS)
    for bank in kb.banks:
        assert bank.hotline.strip()
        assert kb.bank_by_name(bank.name) is bank


def test_only_tagged_card_lines_are_listed(kb):
    card_lines = {b.name: b.card_hotline for b in kb.banks if b.card_hotline}
    assert card_lines == {"交通银行": "400-800-9888", "招商银行": "400-820-5555", "中信银行": "400-889-5558"}


def test_unconfirmed_numbers_are_not_given(raw):
    blob = yaml.safe_dump([raw["contacts"], raw["guidance"]], allow_unicode=True)
    for number in UNCONFIRMED_NUMBERS:
        assert number not in blob, number


def test_help_channels(kb):
    expected = {"police": "110", "nfra": "12378", "pboc": "12363", "court": "12368", "gov": "12345"}
    for cid, number in expected.items():
        assert kb.help_channels[cid].contact == number
    assert "12348" in kb.help_channels["legal_aid"].contact
    assert "pbccrc.org.cn" in kb.help_channels["credit_center"].contact
    assert {"bank_official", "fcp_platform"} <= set(kb.help_channels)


# --- build_kb rejects broken input ------------------------------------------------

MINI_PROVISIONS = {
    "provisions": [
        {
            "id": "criminal_law_245", "instrument": "中华人民共和国刑法", "short_name": "刑法", "article": "第二百四十五条",
            "quote": "非法侵入他人住宅的", "text": "非法搜查他人身体、住宅，或者非法侵入他人住宅的，处三年以下有期徒刑或者拘役。",
            "in_force": "1997-10-01", "source": "shared/laws/刑法.md", "verification": "VERIFIED-1st", "kind": "law",
        }
    ]
}
MINI_CONTACTS = {
    "help_channels": [{"id": "police", "name": "报警", "contact": "110", "scope": "紧急情况"}],
    "banks": [{"name": "招商银行", "aliases": ["招行"], "hotline": "95555"}],
}
MINI_GUIDANCE = {
    "intents": {
        "ask_home_entry": {
            "answer": "不能进。",
            "steps": ["不开门", "报警"],
            "provisions": ["criminal_law_245"],
            "help": ["police"],
            "variants": [{"id": "forced", "when": {"behavior": ["闯入"]}, "note": "报警。"}],
        }
    }
}


def _mini():
    return copy.deepcopy(MINI_PROVISIONS), copy.deepcopy(MINI_CONTACTS), copy.deepcopy(MINI_GUIDANCE)


def test_minimal_kb_builds():
    kb = build_kb(*_mini())
    assert kb.provisions["criminal_law_245"].citation == "《刑法》第二百四十五条"


def _broken(mutate):
    provisions, contacts, guidance = _mini()
    mutate(provisions["provisions"][0], guidance["intents"]["ask_home_entry"])
    with pytest.raises(KnowledgeBaseError):
        build_kb(provisions, contacts, guidance)


def test_rejects_unknown_provision_id():
    _broken(lambda p, g: g["provisions"].append("criminal_law_999"))


def test_rejects_unknown_provision_in_variant():
    _broken(lambda p, g: g["variants"][0].update(provisions=["no_such_provision"]))


def test_rejects_article_on_memory_m():
    _broken(lambda p, g: p.update(verification="MEMORY-m"))


def test_rejects_bad_date():
    _broken(lambda p, g: p.update(in_force="1997-10"))


def test_rejects_unknown_fact():
    _broken(lambda p, g: g["variants"][0].update(when={"mood": ["angry"]}))


def test_rejects_unknown_help_channel():
    _broken(lambda p, g: g.update(help=["fbi"]))


def test_rejects_replacing_a_missing_step():
    _broken(lambda p, g: g["variants"][0].update(steps=["x"], replaces=3))


def test_memory_m_without_article_is_accepted():
    provisions, contacts, guidance = _mini()
    provisions["provisions"][0].update(verification="MEMORY-m", article=None)
    assert build_kb(provisions, contacts, guidance).provisions["criminal_law_245"].citation == "《刑法》"
