"""Collector check rules, and the flows.yml loader they share with the other flows."""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest
import yaml

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.facts import BEHAVIORS
from actions.advice.kb import KnowledgeBaseError, load_kb
from actions.flow_state import BEHAVIOR_ANSWERS
from actions.flows import flows_kb
from actions.flows.collector_check import (
    ANSWERS,
    FLAG_LEVEL,
    CollectorAnswers,
    Verdict,
    assess_collector,
    level_for,
    red_flag_ids,
    validate_collector_answers,
)
from actions.flows.flows_kb import (
    CLAIMS,
    KNOWLEDGE_DIR,
    LEVELS,
    RED_FLAGS,
    FlowsError,
    build_flows,
    check_references,
    load_flows,
)
from chinese_text.script import is_traditional

KB = load_kb()
FLOWS = load_flows()
CLEAN = CollectorAnswers(
    collector_claims_to_be="bank",
    collector_showed_id=True,
    collector_showed_authorisation=True,
    collector_headcount=2,
    visit_at_night=False,
    collector_threat_kind="none",
    collector_entry="none",
    collector_third_party="none",
    collector_demanded_personal_account=False,
    bank="招商银行",
)
PUBLIC_NUMBERS = {"110", "12368", "12378", "12348"}
PHONE_LIKE = re.compile(r"\d[\d-]{2,}\d")
CHOICE = re.compile(r'"choice": "([^"]*)"')


def raw_flows():
    return yaml.safe_load((KNOWLEDGE_DIR / "flows.yml").read_text(encoding="utf-8"))


def all_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_strings(value)


# ---- verdict levels and red flags ---------------------------------------------------


def test_clean_visit_looks_legit_but_still_says_verify():
    verdict = assess_collector(CLEAN)
    assert verdict.level == "legit_looking"
    assert verdict.label.startswith("看起来正规")
    assert verdict.reasons == ()
    assert "400-820-5555" in verdict.verify_steps[0]
    assert any("核实" in step for step in verdict.next_steps)


FLAG_CASES = [
    (
        "official_money",
        {"collector_claims_to_be": "police", "collector_demanded_personal_account": True},
        "likely_scam",
        {"criminal_law_279", "public_security_62"},
    ),
    ("personal_account", {"collector_demanded_personal_account": True}, "likely_scam", set()),
    (
        "safety_threat",
        {"collector_threat_kind": "safety_or_insult"},
        "unlawful_conduct",
        {"public_security_50", "card_rules_68"},
    ),
    ("forced_entry", {"collector_entry": "forced"}, "unlawful_conduct", {"criminal_law_245", "public_security_47"}),
    (
        "refused_to_leave",
        {"collector_entry": "refused_to_leave"},
        "unlawful_conduct",
        {"criminal_law_245", "public_security_47"},
    ),
    (
        "disclosed_to_others",
        {"collector_third_party": "disclosed"},
        "unlawful_conduct",
        {"card_rules_68", "pipl_10", "civil_code_1038", "civil_code_1064"},
    ),
    (
        "claims_court",
        {"collector_claims_to_be": "court"},
        "verify_official",
        {"civ_proc_88", "civ_proc_89", "civ_proc_147"},
    ),
    (
        "claims_police",
        {"collector_claims_to_be": "police"},
        "verify_official",
        {"bank_card_rules_3", "criminal_law_279"},
    ),
    ("night_visit", {"visit_at_night": True}, "doubtful", {"bank_assoc_2026_hours"}),
    ("identity_unknown", {"collector_claims_to_be": "unknown"}, "doubtful", set()),
    ("no_id", {"collector_showed_id": False}, "doubtful", set()),
    ("id_unchecked", {"collector_showed_id": None}, "doubtful", set()),
    ("no_authorisation", {"collector_showed_authorisation": False}, "doubtful", set()),
    ("lawful_pressure", {"collector_threat_kind": "lawful_pressure"}, "legit_looking", set()),
    ("invited_entry", {"collector_entry": "invited"}, "legit_looking", set()),
    ("located_via_others", {"collector_third_party": "located_me"}, "legit_looking", {"bank_assoc_2026_conduct"}),
    ("single_visitor", {"collector_headcount": 1}, "legit_looking", set()),
]


@pytest.mark.parametrize("flag, change, level, provisions", FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_each_red_flag(flag, change, level, provisions):
    verdict = assess_collector(dataclasses.replace(CLEAN, **change))
    assert [r.id for r in verdict.reasons] == [flag]
    assert verdict.level == level
    assert verdict.label == FLOWS.collector.labels[level]
    reason = verdict.reasons[0]
    assert {p.id for p in reason.provisions} == provisions
    assert reason.text == FLOWS.collector.red_flags[flag].text


def test_every_red_flag_has_a_case_and_a_level():
    assert {c[0] for c in FLAG_CASES} == set(RED_FLAGS) == set(FLAG_LEVEL)


def test_levels_run_from_least_to_most_serious():
    assert LEVELS == ("legit_looking", "doubtful", "verify_official", "unlawful_conduct", "likely_scam")
    assert "诈骗" in FLOWS.collector.labels["likely_scam"]
    assert "诈骗" not in FLOWS.collector.labels["verify_official"] + FLOWS.collector.labels["unlawful_conduct"]


def test_court_claim_without_money_is_verified_not_called_a_scam():
    verdict = assess_collector(dataclasses.replace(CLEAN, collector_claims_to_be="court"))
    assert verdict.level == "verify_official"
    text = " ".join([verdict.label, *(r.text for r in verdict.reasons), *verdict.verify_steps, *verdict.next_steps])
    assert "诈骗" not in text and "不要开门" not in text and "不要签" not in text
    assert "12368" in text and "接收文书" in text and "视为" in text and "缺席判决" in text
    assert "不在门口交钱" in text


def test_court_claim_with_a_transfer_demand_is_a_likely_scam():
    verdict = assess_collector(
        dataclasses.replace(CLEAN, collector_claims_to_be="court", collector_demanded_personal_account=True)
    )
    assert verdict.level == "likely_scam"
    assert verdict.reasons[0].id == "official_money"
    assert any("110" in s for s in verdict.next_steps)


def test_police_claim_is_verified_through_110_and_may_be_genuine():
    verdict = assess_collector(dataclasses.replace(CLEAN, collector_claims_to_be="police"))
    assert verdict.level == "verify_official"
    assert "确实可能" in verdict.reasons[0].text and "110" in verdict.reasons[0].text


def test_lawful_pressure_is_not_unlawful():
    verdict = assess_collector(dataclasses.replace(CLEAN, collector_threat_kind="lawful_pressure"))
    assert verdict.level == "legit_looking"
    assert "合法" in verdict.reasons[0].text


def test_a_visitor_let_in_is_not_an_intruder_but_one_who_stays_is():
    invited = assess_collector(dataclasses.replace(CLEAN, collector_entry="invited"))
    assert invited.level == "legit_looking" and "不算非法侵入住宅" in invited.reasons[0].text
    stayed = assess_collector(dataclasses.replace(CLEAN, collector_entry="refused_to_leave"))
    assert stayed.level == "unlawful_conduct"


def test_asking_relatives_to_pass_a_message_is_not_unlawful_but_telling_them_is():
    located = assess_collector(dataclasses.replace(CLEAN, collector_third_party="located_me"))
    assert located.level == "legit_looking"
    disclosed = assess_collector(dataclasses.replace(CLEAN, collector_third_party="disclosed"))
    assert disclosed.level == "unlawful_conduct"


def test_unlawful_conduct_never_tells_the_user_to_cut_contact_with_the_bank():
    verdict = assess_collector(dataclasses.replace(CLEAN, collector_threat_kind="safety_or_insult"))
    assert any("别因此断了和银行的联系" in s for s in verdict.next_steps)


def test_agency_needs_the_banks_authorisation():
    agency = dataclasses.replace(CLEAN, collector_claims_to_be="agency", collector_showed_authorisation=None)
    assert "no_authorisation" in red_flag_ids(agency)
    own_staff = dataclasses.replace(CLEAN, collector_showed_authorisation=None)
    assert assess_collector(own_staff).level == "legit_looking"


def test_the_most_serious_flag_wins_and_all_are_listed():
    answers = dataclasses.replace(
        CLEAN, collector_showed_id=False, collector_threat_kind="safety_or_insult", visit_at_night=True
    )
    verdict = assess_collector(answers)
    assert verdict.level == "unlawful_conduct"
    assert [r.id for r in verdict.reasons] == ["safety_threat", "night_visit", "no_id"]


@pytest.mark.parametrize(
    "flags, level",
    [
        ((), "legit_looking"),
        (("single_visitor",), "legit_looking"),
        (("no_id", "single_visitor"), "doubtful"),
        (("night_visit", "claims_court"), "verify_official"),
        (("claims_court", "safety_threat"), "unlawful_conduct"),
        (("official_money", "forced_entry"), "likely_scam"),
    ],
)
def test_level_for(flags, level):
    assert level_for(flags) == level


def test_unanswered_form_is_doubtful_not_legit():
    verdict = assess_collector(CollectorAnswers())
    assert verdict.level == "doubtful"
    assert {r.id for r in verdict.reasons} == {"identity_unknown", "id_unchecked"}


@pytest.mark.parametrize("claim, number", [("police", "110"), ("court", "12368")])
def test_impersonation_adds_the_official_check(claim, number):
    verdict = assess_collector(dataclasses.replace(CLEAN, collector_claims_to_be=claim))
    assert any(number in step for step in verdict.verify_steps)
    assert "id_unchecked" not in red_flag_ids(
        dataclasses.replace(CLEAN, collector_claims_to_be=claim, collector_showed_id=None)
    )


def test_flag_specific_next_steps():
    verdict = assess_collector(dataclasses.replace(CLEAN, collector_demanded_personal_account=True))
    assert any("110" in s and "转" in s for s in verdict.next_steps)
    verdict = assess_collector(dataclasses.replace(CLEAN, visit_at_night=True))
    assert any("22" in s for s in verdict.next_steps)


def test_verdict_is_frozen():
    verdict = assess_collector(CLEAN)
    assert isinstance(verdict, Verdict)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.level = "doubtful"  # type: ignore[misc]


# ---- verify steps: always the bank's official number -----------------------------------


@pytest.mark.parametrize("bank", [b.name for b in KB.banks])
def test_verify_step_uses_the_kb_hotline(bank):
    verdict = assess_collector(dataclasses.replace(CLEAN, bank=bank))
    number = KB.bank_by_name(bank).official_number
    if number:
        assert number in verdict.verify_steps[0]
    else:
        assert FLOWS.formats.hotline_fallback in verdict.verify_steps[0]
    allowed = PUBLIC_NUMBERS | ({number} if number else set())
    for step in verdict.verify_steps + verdict.next_steps:
        assert set(PHONE_LIKE.findall(step)) <= allowed, step


@pytest.mark.parametrize("bank", [None, "某某小贷"])
def test_unknown_bank_falls_back_to_the_card_or_app(bank):
    verdict = assess_collector(dataclasses.replace(CLEAN, bank=bank))
    assert "卡背面或官方App里的客服电话" in verdict.verify_steps[0]
    assert not set(PHONE_LIKE.findall(verdict.verify_steps[0]))


def test_alias_finds_the_bank():
    assert "400-889-5558" in assess_collector(dataclasses.replace(CLEAN, bank="中信")).verify_steps[0]


# ---- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"collector_claims_to_be": "lawyer"},
        {"collector_claims_to_be": None},
        {"collector_showed_id": "yes"},
        {"visit_at_night": 1},
        {"collector_threat_kind": "false"},
        {"collector_threat_kind": "unsure"},
        {"collector_entry": "yes"},
        {"collector_headcount": 51},
        {"collector_headcount": 0},
        {"collector_headcount": -2},
        {"collector_headcount": 1000},
        {"collector_headcount": True},
        {"collector_headcount": 1.5},
        {"bank": ""},
        {"bank": 5},
    ],
)
def test_validator_rejects_bad_answers(change):
    with pytest.raises(ValueError):
        validate_collector_answers(dataclasses.replace(CLEAN, **change))
    with pytest.raises(ValueError):
        assess_collector(dataclasses.replace(CLEAN, **change))


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"collector_headcount": None},
        {"collector_headcount": 30},
        {"collector_headcount": 50},
        {"bank": None},
        {"collector_showed_id": None},
        {"collector_claims_to_be": "agency"},
    ],
)
def test_validator_accepts_good_answers(change):
    answers = dataclasses.replace(CLEAN, **change)
    assert validate_collector_answers(answers) is answers


def test_from_slots_reads_the_stored_answers():
    answers = CollectorAnswers.from_slots(
        {
            "collector_claims_to_be": None,
            "collector_headcount": "3",
            "requested_slot": "x",
            "collector_showed_id": "no",
            "visit_at_night": "unsure",
            "collector_threat_kind": "unsure",
            "collector_entry": "forced",
        }
    )
    assert answers.collector_claims_to_be == "unknown"
    assert answers.collector_headcount == 3
    assert answers.collector_showed_id is False and answers.visit_at_night is None
    assert answers.collector_threat_kind is None and answers.collector_entry == "forced"
    assert CollectorAnswers.from_slots({"bank": ["招行", "中信"]}).bank == "招行"
    assert CollectorAnswers.from_slots({"collector_headcount": 3.0}).collector_headcount == 3
    with pytest.raises(ValueError):
        CollectorAnswers.from_slots({"collector_claims_to_be": "police_officer"})


# ---- flows.yml: references, language, schema -------------------------------------------------


def test_every_provision_id_in_flows_exists():
    check_references(FLOWS, KB)
    for pid in FLOWS.provision_ids():
        assert pid in KB.provisions, pid


def test_every_cited_provision_in_verdicts_exists():
    for _, change, _, _ in FLAG_CASES:
        for reason in assess_collector(dataclasses.replace(CLEAN, **change)).reasons:
            for provision in reason.provisions:
                assert KB.provisions[provision.id] is provision


def test_flows_texts_are_simplified_and_cite_no_article_numbers_directly():
    for text in all_strings(raw_flows()):
        assert not is_traditional(text), text
        assert not re.search(r"第[一二三四五六七八九十百千零\d]+条", text), text
        assert "一定会坐牢" not in text


def test_load_flows_is_cached():
    assert load_flows() is load_flows()


def _broken(mutate):
    data = copy.deepcopy(raw_flows())
    mutate(data)
    return data


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("planner"),
        lambda d: d.update(version=2),
        lambda d: d.update(extra={}),
        lambda d: d["collector_check"]["red_flags"].pop("safety_threat"),
        lambda d: d["collector_check"]["red_flags"].update(new_flag={"text": "x"}),
        lambda d: d["collector_check"]["labels"].update(doubtful=""),
        lambda d: d["collector_check"]["verify_steps"]["always"].append("拨打{visitor_number}"),
        lambda d: d["planner"]["letter"].update(template="{name}"),
        lambda d: d["planner"]["reasons"].update(fits="建议 分期"),
        lambda d: d["incident"]["behaviors"].pop("威胁"),
        lambda d: d["incident"]["behaviors"]["威胁"].update(urgent="yes"),
        lambda d: d["incident"]["behaviors"]["威胁"].update(mappings="public_security_50"),
        lambda d: d["incident"]["behaviors"]["频繁来电"]["mappings"][0].update(met_by=["不存在"]),
        lambda d: d["incident"]["behaviors"]["威胁"]["mappings"][0].update(met_by=["辱骂"]),
        lambda d: d["planner"]["letter"]["basis_sentence"].update(loan="依据第七十条"),
        lambda d: d["incident"]["evidence_labels"].pop("没有"),
    ],
)
def test_schema_check_rejects_broken_flows(mutate):
    with pytest.raises(FlowsError):
        build_flows(_broken(mutate))


def test_reference_check_rejects_unknown_provision():
    flows = build_flows(
        _broken(lambda d: d["incident"]["behaviors"]["威胁"].update(mappings=[{"provisions": ["no_such_provision"]}]))
    )
    with pytest.raises(FlowsError):
        check_references(flows, KB)


def test_load_flows_rejects_a_reference_to_a_missing_provision(tmp_path, monkeypatch):
    """As load_kb does for guidance.yml: the file and the key of the bad reference are named."""
    data = _broken(
        lambda d: d["incident"]["behaviors"]["威胁"].update(mappings=[{"provisions": ["no_such_provision"]}])
    )
    (tmp_path / "flows.yml").write_text(yaml.safe_dump(data, allow_unicode=True, width=10**6), encoding="utf-8")
    monkeypatch.setattr(flows_kb, "KNOWLEDGE_DIR", tmp_path)
    load_flows.cache_clear()
    try:
        with pytest.raises(
            KnowledgeBaseError,
            match=r"^flows\.yml:incident\.behaviors\.威胁\.mappings\[0\]: "
            r"unknown provision 'no_such_provision'$",
        ):
            load_flows()
    finally:
        load_flows.cache_clear()


# ---- the answers each question accepts, wherever they are written -------------------------------


def _choices(buttons):
    return {m.group(1) for m in (CHOICE.search(b["payload"]) for b in buttons) if m}


def test_buttons_and_confirmation_lines_use_only_accepted_answers():
    dialogue = load_dialogue()
    for slot, accepted in ANSWERS.items():
        assert _choices(dialogue.questions[slot].buttons) <= set(accepted), slot
        assert set(dialogue.confirm_values.get(slot, {})) <= set(accepted), slot
    assert _choices(dialogue.questions["collector_claims_to_be"].buttons) == set(CLAIMS)


def test_the_claims_slot_holds_the_claims(domain):
    slot = domain["slots"]["collector_claims_to_be"]
    assert slot["type"] in ("text", "categorical")  # the validator keeps it to CLAIMS
    assert set(slot.get("values") or CLAIMS) == set(CLAIMS)


def test_behaviours_prefill_only_answers_the_questions_accept():
    for behavior, slot, answer in BEHAVIOR_ANSWERS:
        assert behavior in BEHAVIORS and answer in ANSWERS[slot], (behavior, slot, answer)
