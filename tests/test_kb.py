"""Integrity of the legal knowledge base (actions/knowledge/*.yml)."""

from __future__ import annotations

import copy
import datetime
import json
import re
import string
from pathlib import Path

import pytest
import yaml

from actions.advice.engine import template_values
from actions.advice.facts import BEHAVIORS, FACT_KINDS, RELATIONS, Facts
from actions.advice.kb import ARTICLE_CITABLE, KNOWLEDGE_DIR, SOFT_LAW_KINDS, KnowledgeBaseError, build_kb, load_kb
from tests.contract import ADVISORY_INTENTS

REPO = Path(__file__).resolve().parents[1]
LAWS_DIR = REPO.parent / "shared" / "laws"
OFFICIAL_DIR = KNOWLEDGE_DIR / "official_texts"

CANONICAL_BANKS = [
    "工商银行",
    "农业银行",
    "中国银行",
    "建设银行",
    "交通银行",
    "招商银行",
    "中信银行",
    "浦发银行",
    "民生银行",
    "光大银行",
    "兴业银行",
    "平安银行",
    "华夏银行",
    "广发银行",
    "邮储银行",
]
LABEL_KEYS = {
    "steps_heading",
    "basis_heading",
    "basis_also",
    "basis_etc",
    "help_heading",
    "bank_help",
    "disclaimer",
    "basis_button",
    "basis_full_heading",
    "soft_law_note",
    "paraphrase_mark",
    "disclaimer_outside",
    "offer_start_collector_check",
    "offer_start_installment_plan",
    "offer_start_incident_log",
    "also_mentioned",
    "also_button",
}
OFFERS = {
    "start_collector_check": {"ask_collector_legitimacy", "ask_how_to_respond", "ask_home_entry", "ask_visit_process"},
    "start_installment_plan": {"ask_installment_negotiation", "ask_fees_interest"},
    "start_incident_log": {
        "report_harassment",
        "ask_third_party_contact",
        "ask_collection_hours",
        "ask_complaint",
        "emergency_now",
        "ask_evidence",
    },
}
# Numbers legal_facts.md tags MEMORY(m)/(m-h) and no public page confirmed: they must not be given to users.
# (95511 平安 and 95508 广发 were confirmed since; contacts.yml records the pages.)
UNCONFIRMED_NUMBERS = [
    "400-669-5599",
    "400-669-5566",
    "400-820-0588",
    "400-820-8788",
    "800-820-8788",
    "400-669-5568",
    "400-788-8888",
    "400-669-5577",
    "400-830-8003",
    "400-810-8866",
    "95568",
    "95595",
]
# Banks whose general number legal_facts.md §13 tags MEMORY(m)/(m-h).
MEMORY_NUMBER_BANKS = {"民生银行", "光大银行", "平安银行", "广发银行"}
# placeholder -> fact its variant's `when` must test
PLACEHOLDER_FACT = {
    "bank": "bank",
    "hotline": "bank",
    "amount": "amount",
    "amount_wan": "amount",
    "monthly_income": "monthly_income",
    "monthly_expense": "monthly_expense",
    "overdue_days": "overdue_duration",
    "relation": "relation",
    "behavior": "behavior",
    "amount_parts": "amount_parts",
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


def test_canonical_entity_values_are_the_extractors_pattern_ids():
    """relation/behavior values are defined once (facts.py) and are exactly what the patterns emit."""
    emitted = {"relation": set(), "behavior": set()}
    for path in (REPO / "data" / "patterns").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row and row.get("label") in emitted and row.get("id") != "__none__":
                emitted[row["label"]].add(row["id"])
    assert emitted["relation"] == set(RELATIONS)
    assert emitted["behavior"] == set(BEHAVIORS)


def test_every_placeholder_the_engine_fills_has_the_fact_that_guarantees_it(kb):
    assert set(PLACEHOLDER_FACT) == set(template_values(Facts(), kb))
    assert set(PLACEHOLDER_FACT.values()) <= set(FACT_KINDS)


def test_placeholders_only_where_when_guarantees_them(raw):
    for intent, entry in raw["guidance"]["intents"].items():
        for variant in entry.get("variants") or []:
            for text in _variant_texts(variant):
                for name in _placeholders(text):
                    assert name in PLACEHOLDER_FACT, f"{intent}:{variant['id']}: unknown placeholder {{{name}}}"
                    assert PLACEHOLDER_FACT[name] in variant["when"], (
                        f"{intent}:{variant['id']}: {{{name}}} used but 'when' does not test {PLACEHOLDER_FACT[name]}"
                    )


def test_no_guaranteed_outcome(raw):
    blob = yaml.safe_dump(raw, allow_unicode=True)
    for phrase in ("一定会坐牢", "肯定会坐牢", "一定坐牢", "肯定坐牢"):
        assert phrase not in blob, phrase


def test_illegal_debt_crime_only_for_illegal_loans(raw):
    """刑法第二百九十三条之一 is about illegal debts: never cited against lawful card or loan collection."""
    for intent, entry in raw["guidance"]["intents"].items():
        assert "criminal_law_293_1" not in entry["provisions"], intent
        assert "催收非法债务罪" not in entry["answer"] + " ".join(entry["steps"]), intent
        for variant in entry.get("variants") or []:
            mentions = "criminal_law_293_1" in (variant.get("provisions") or []) or any(
                "催收非法债务" in t for t in _variant_texts(variant)
            )
            if mentions:
                assert variant["when"].get("loan_type") == ["illegal_loan"], f"{intent}:{variant['id']}"


def _all_kb_texts():
    """Every user-facing text of the knowledge base: guidance, flows, dialogue, summary."""
    for name in ("guidance.yml", "flows.yml", "dialogue.yml", "summary.yml"):
        yield from (t for t in _strings(_raw(name)) if re.search(r"[\u4e00-\u9fff]", t))


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


# Advice that could make a debtor ignore a court or cut contact with a lawful creditor.
HARMFUL_ADVICE = [
    r"法院不会(派人)?上门",
    r"(拒收|拒绝接收|不要接收|不用签收|别签收|不要签收).{0,4}(法院|传票|文书|判决)",
    r"(不用|不必|别|不要)(理会?|管|去)(法院|传票|判决|开庭|起诉)",
    r"(判决|传票|法院).{0,6}(不用理|不用管|可以不管|置之不理)",
    r"(拉黑|屏蔽|不接).{0,4}(银行|催收|所有)(的)?(电话|号码)?",
    r"(银行|催收)(的)?(电话|号码).{0,2}(拉黑|屏蔽)",
    r"(?<!不)(换|换个)(号码|手机号).{0,4}(躲|避)",
    r"(别|不要|不用)(再)?(和|跟|与)(银行|催收方?|放贷机构)(联系|沟通)",
    r"(断|切断)(了)?(和|跟|与)?(银行|催收)?.{0,2}联系(吧|就行)",
    r"不用还(钱|了)",
]


def test_no_text_tells_the_user_to_ignore_a_court_or_cut_contact():
    for text in _all_kb_texts():
        for pattern in HARMFUL_ADVICE:
            assert not re.search(pattern, text), f"{pattern!r} in: {text}"


def test_harmful_advice_patterns_catch_what_they_are_for():
    """The check above can fail: each pattern catches a sentence it is meant to catch."""
    bad = [
        "法院不会派人上门",
        "拒收法院的传票就行",
        "不用理法院",
        "判决书不用管它",
        "把银行的电话拉黑",
        "换号码躲开他们",
        "别再跟银行联系",
        "切断联系就行",
        "这钱不用还了",
    ]
    for sentence in bad:
        assert any(re.search(p, sentence) for p in HARMFUL_ADVICE), sentence


# --- provisions -----------------------------------------------------------


def test_provision_ids_are_unique(raw):
    ids = [p["id"] for p in raw["provisions"]["provisions"]]
    assert len(ids) == len(set(ids))
    assert 35 <= len(ids) <= 80


def test_unconfirmed_tags_carry_no_article_number(raw):
    for p in raw["provisions"]["provisions"]:
        if p["verification"] not in ARTICLE_CITABLE:
            assert not p.get("article"), f"{p['id']}: {p['verification']} may not carry an article number"


def test_soft_law_is_never_cited_by_article_or_as_law(raw):
    for p in raw["provisions"]["provisions"]:
        if p["kind"] in SOFT_LAW_KINDS:
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
        pieces = [_squash(piece) for piece in p["quote"].split("…") if piece.strip()]
        assert pieces, p["id"]
        # a quote may run across paragraph breaks (e.g. the list of evidence kinds)
        assert _in_order(pieces, _squash(p["text"])), f"{p['id']}: quote pieces not in text, in order"


# Wording that is memory or a secondary paraphrase (legal_facts.md §7, §15): never shown in quotation marks.
MUST_BE_PARAPHRASE = {"card_rules_68", "card_rules_69", "sc_dishonest_list_1", "sc_high_consumption_1"}
SUMMARY_MARK = "要点（非原文）"
# 刑法 articles: in_force is the in-force date of the last amendment that changed the article.
CRIMINAL_LAW_IN_FORCE = {
    "criminal_law_196": ("2005-02-28", "刑法修正案（五）"),
    "criminal_law_238": ("1997-10-01", "unchanged"),
    "criminal_law_245": ("1997-10-01", "unchanged"),
    "criminal_law_246": ("2015-11-01", "刑法修正案（九）"),
    "criminal_law_253_1": ("2015-11-01", "刑法修正案（九）"),
    "criminal_law_279": ("1997-10-01", "unchanged"),
    "criminal_law_280": ("2015-11-01", "刑法修正案（九）"),
    "criminal_law_293": ("2011-05-01", "刑法修正案（八）"),
    "criminal_law_293_1": ("2021-03-01", "刑法修正案（十一）"),
    "criminal_law_313": ("2015-11-01", "刑法修正案（九）"),
}


def test_paraphrased_wording_is_flagged(raw):
    for p in raw["provisions"]["provisions"]:
        wording = p.get("wording")
        assert wording in (None, "paraphrase"), f"{p['id']}: verbatim wording takes no field, got {wording!r}"
        summary = p["quote"].startswith(SUMMARY_MARK) or p["text"].startswith(SUMMARY_MARK)
        if summary or p["id"] in MUST_BE_PARAPHRASE:
            assert wording == "paraphrase", f"{p['id']}: its wording is not official, mark it wording: paraphrase"
        if p["verification"] == "VERIFIED-1st":
            assert wording is None, f"{p['id']}: VERIFIED-1st texts are verbatim"


def test_criminal_law_dates_follow_the_last_amendment(raw):
    provisions = {p["id"]: p for p in raw["provisions"]["provisions"]}
    cited = {pid for pid, p in provisions.items() if p["short_name"] == "刑法"}
    assert cited == set(CRIMINAL_LAW_IN_FORCE), "a 刑法 article was added or dropped: check its amendments"
    for pid, (in_force, amendment) in CRIMINAL_LAW_IN_FORCE.items():
        assert provisions[pid]["in_force"] == in_force, pid
        assert amendment in provisions[pid]["source"], f"{pid}: source must name {amendment}"


def test_illegal_debt_crime_is_quoted_with_its_scope(raw):
    """刑法293条之一 covers only illegal debts (legal_facts §2): its quote must say so."""
    provision = next(p for p in raw["provisions"]["provisions"] if p["id"] == "criminal_law_293_1")
    assert "催收高利放贷等产生的非法债务" in provision["quote"]


def test_court_provisions_quote_the_parts_the_advice_needs(raw):
    quotes = {p["id"]: p["quote"] for p in raw["provisions"]["provisions"]}
    assert "（五）" in quotes["civ_proc_114"] and "（六）拒不履行" in quotes["civ_proc_114"]
    assert "视听资料" in quotes["civ_proc_66"] and "电子数据" in quotes["civ_proc_66"]
    assert "（二）义务人同意履行义务" in quotes["civil_code_195"]
    assert "即视为送达" in quotes["civ_proc_89"]


# --- official texts: the cited articles, copied into official_texts/ ---------------

_NUM = "零〇一二三四五六七八九十百千"
_HEADING = re.compile(rf"^(第[{_NUM}]+条(?:之[{_NUM}]+)?)\s+(.*)$")
# the 2018 decision amending the credit-card interpretation quotes the new articles inline
_DECISION = re.compile(rf"(?:作为《解释》|将《解释》原)(第[{_NUM}]+条)(?:：|修改为：)“(.*)$")
# lines that end an article: markdown, chapter and section headings, the decision's other items
_BREAK = re.compile(rf"^(?:#|<!--|>|第[{_NUM}]+(?:分编|编|章|节)|[{_NUM}]+、)")
_INVISIBLE = str.maketrans("", "", "\u200b\ufeff")


def _squash(text):
    return "".join(text.translate(_INVISIBLE).split())


def _articles(path):
    """article number -> its paragraphs; the quote marks wrapping the 2018 decision's new articles removed."""
    articles, wrapped, current = {}, set(), None
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.translate(_INVISIBLE).strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        decision = None if heading else _DECISION.search(line)
        if heading or decision:
            current = (heading or decision).group(1)
            articles[current] = [(heading or decision).group(2).strip()]
            if decision:
                wrapped.add(current)
        elif _BREAK.match(line):
            current = None
        elif current:
            articles[current].append(line.lstrip("“") if current in wrapped else line)
    for number in wrapped:
        articles[number][-1] = articles[number][-1].rstrip("”")
    return articles


def _law_file(provision):
    """The shared/laws file name the provision's source starts with, or None."""
    head = provision["source"].split(";")[0].strip()
    return head[len("shared/laws/") :] if head.startswith("shared/laws/") else None


def _law_backed(raw):
    return [p for p in raw["provisions"]["provisions"] if _law_file(p)]


def _in_order(parts, text):
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _official_files():
    return sorted(path for path in OFFICIAL_DIR.glob("*.md") if path.name != "README.md")


def test_law_backed_provisions_exist(raw):
    assert len(_law_backed(raw)) >= 30


def test_official_text_parser_finds_known_articles():
    crim = _articles(OFFICIAL_DIR / "刑法.md")
    assert crim["第二百四十五条"][0].startswith("非法搜查他人身体")
    assert len(crim["第二百四十五条"]) == 2 and "告诉的才处理" not in "".join(crim["第二百四十五条"])
    assert crim["第二百九十三条之一"][0].startswith("有下列情形之一，催收高利放贷")
    police = _articles(OFFICIAL_DIR / "治安管理处罚法-2025修订.md")
    assert len(police["第五十条"]) == 8 and police["第五十条"][-1].startswith("有前款第五项规定的")
    card = _articles(OFFICIAL_DIR / "妨害信用卡管理刑事案件解释-2018修正决定.md")
    assert card["第六条"][0].startswith("持卡人以非法占有为目的") and card["第六条"][-1].endswith("拒不归还的情形。")
    assert "两次催收至少间隔三十日" in "".join(card["第七条"]) and "两次催收至少间隔三十日" not in "".join(
        card["第六条"]
    )


def test_every_verified_provision_has_an_official_text(raw):
    for p in raw["provisions"]["provisions"]:
        if p["verification"] == "VERIFIED-1st":
            name = _law_file(p)
            assert name, f"{p['id']}: a VERIFIED-1st source must start with shared/laws/<file>"
            assert (OFFICIAL_DIR / name).is_file(), f"{p['id']}: official_texts/{name} missing"


def test_verified_quotes_are_in_the_official_articles(raw):
    """Quote and text of every VERIFIED-1st provision against the repo copy (runs everywhere, CI included)."""
    cache = {}
    for p in raw["provisions"]["provisions"]:
        if p["verification"] != "VERIFIED-1st":
            continue
        name = _law_file(p)
        articles = cache.setdefault(name, _articles(OFFICIAL_DIR / name))
        assert p["article"] in articles, f"{p['id']}: no heading {p['article']} in official_texts/{name}"
        article = articles[p["article"]]
        assert [_squash(line) for line in p["text"].splitlines()] == [_squash(line) for line in article], (
            f"{p['id']}: text is not the whole of {p['article']} in official_texts/{name}"
        )
        parts = [_squash(part) for part in p["quote"].split("…") if part.strip()]
        assert _in_order(parts, _squash("".join(article))), f"{p['id']}: quote not found in {p['article']}"


def test_official_texts_hold_exactly_the_cited_articles(raw):
    cited = {}
    for p in _law_backed(raw):
        cited.setdefault(_law_file(p), set()).add(p["article"])
    assert {path.name for path in _official_files()} == set(cited)
    for path in _official_files():
        assert set(_articles(path)) == cited[path.name], path.name


def test_official_texts_name_their_source():
    for path in _official_files():
        header = path.read_text(encoding="utf-8").split("## 条文")[0]
        assert f"/work/shared/laws/{path.name}" in header, path.name
        assert "著作权法第五条" in header and "Issued by:" in header and "Version:" in header, path.name


def test_official_texts_match_the_shared_full_texts():
    """Each article in official_texts/ equals the same article in ../shared/laws.

    Skipped only when ../shared/laws does not exist (a fresh clone, CI): the quotes are then still checked
    against the repo copies by test_verified_quotes_are_in_the_official_articles.
    """
    if not LAWS_DIR.is_dir():
        pytest.skip(f"{LAWS_DIR} not present: cannot compare the repo copies with the full texts")
    for path in _official_files():
        full = _articles(LAWS_DIR / path.name)
        for number, paragraphs in _articles(path).items():
            assert number in full, f"{path.name}: {number} not in the shared full text"
            assert [_squash(line) for line in paragraphs] == [_squash(line) for line in full[number]], (
                f"{path.name}: {number} differs from the shared full text"
            )


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


def test_bank_numbers_from_memory_are_given_only_with_a_source(raw):
    """legal_facts §13 tags these banks' numbers MEMORY: give one only where a public page was found."""
    for bank in raw["contacts"]["banks"]:
        number_given = re.fullmatch(r"[\d-]+", str(bank["hotline"])) is not None
        if bank["name"] in MEMORY_NUMBER_BANKS and number_given:
            assert str(bank.get("source", "")).startswith("http"), bank["name"]
            assert bank.get("verification") == "VERIFIED-2nd", bank["name"]
        if bank.get("verification") or bank.get("source"):
            assert number_given and bank.get("verification") in ARTICLE_CITABLE and bank.get("source"), bank["name"]


def test_local_help_contacts_have_a_source(raw):
    entries = raw["contacts"]["local_help"]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    assert {e["jurisdiction"] for e in entries} == {"taiwan", "hong_kong"}
    for entry in entries:
        assert entry["name"].strip() and entry["scope"].strip(), entry["id"]
        if entry.get("contact"):
            assert str(entry.get("source", "")).startswith("http"), f"{entry['id']}: a contact needs its source URL"
    emergency = {e["jurisdiction"]: str(e["contact"]) for e in entries if e["id"].endswith("_police")}
    assert emergency == {"taiwan": "110", "hong_kong": "999"}


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
            "id": "criminal_law_245",
            "instrument": "中华人民共和国刑法",
            "short_name": "刑法",
            "article": "第二百四十五条",
            "quote": "非法侵入他人住宅的",
            "text": "非法搜查他人身体、住宅，或者非法侵入他人住宅的，处三年以下有期徒刑或者拘役。",
            "in_force": "1997-10-01",
            "source": "shared/laws/刑法.md",
            "verification": "VERIFIED-1st",
            "kind": "law",
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
