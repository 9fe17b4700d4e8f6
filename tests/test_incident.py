"""Incident log: behaviour → provision mapping, truthful cited records and complaints."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from actions.advice.facts import BEHAVIORS, RELATIONS
from actions.advice.kb import load_kb
from actions.flows.flows_kb import EVIDENCE, load_flows
from actions.flows.incident import (
    Event,
    Incident,
    map_incident,
    validate_behaviors,
    validate_evidence,
    validate_relations,
    validate_when,
)

KB = load_kb()
FLOWS = load_flows()
TODAY = date(2026, 11, 22)
CITATION = re.compile(r"《[^》]+》(第[零一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?)?")
LONG_DIGITS = re.compile(r"\d{7,}")

# The mapping (legal_facts.md, issue 10 §6): behaviour -> (provisions that hold on the fact itself,
# provisions that hold only under a condition shown as "这要看：…").
EXPECTED = {
    "威胁": ({"public_security_50", "card_rules_68"}, set()),
    "辱骂": ({"card_rules_68"}, {"public_security_50"}),
    "频繁来电": (set(), {"public_security_50", "civil_code_1033"}),
    "跟踪": ({"public_security_50"}, set()),
    "闯入": ({"criminal_law_245", "public_security_47"}, set()),
    "拒不离开": ({"criminal_law_245", "public_security_47"}, set()),
    "门外不走": (set(), {"public_security_50"}),
    "泼油漆": ({"public_security_59"}, set()),
    "损坏财物": ({"public_security_59"}, set()),
    "拿走财物": ({"civ_proc_120"}, set()),
    "砸门": ({"public_security_59"}, set()),
    "冒充警察": (set(), {"criminal_law_279", "public_security_62"}),
    "冒充法院": (set(), {"criminal_law_279", "public_security_62"}),
    "殴打": ({"public_security_51"}, set()),
    "限制自由": ({"criminal_law_238", "public_security_47"}, set()),
    "堵门": (set(), {"public_security_50", "criminal_law_238", "public_security_47"}),
    "张贴": ({"civil_code_1032", "bank_assoc_2026_conduct"}, {"civil_code_1024", "criminal_law_246"}),
    "曝光隐私": ({"civil_code_1032", "public_security_50"}, {"civil_code_1024", "criminal_law_246"}),
    "爆通讯录": ({"pipl_10", "card_rules_68", "civil_code_1038"}, set()),
    "深夜催收": ({"bank_assoc_2026_hours"}, set()),
    "索要额外费用": ({"bank_assoc_2026_conduct"}, set()),
    "不出示证件": (set(), set()),
    "上门": (set(), set()),
    "转账私人账户": (set(), set()),
}
URGENT = {"威胁", "泼油漆", "堵门", "砸门", "闯入", "拒不离开", "门外不走", "殴打", "限制自由", "损坏财物", "拿走财物"}
CONDITION = re.compile(r"（这要看：[^）]*）")


def incident(behaviors=("威胁",), when="昨晚十点", contacted=(), evidence=("录音",), bank="招商银行"):
    return map_incident(behaviors, when, contacted, evidence, bank, TODAY)


def cited_ok(text):
    citations = {p.citation for p in KB.provisions.values()}
    found = [m.group(0) for m in CITATION.finditer(text)]
    assert all(c in citations for c in found), found
    return set(found)


def documents(inc: Incident):
    return (inc.summary, inc.complaint_to_bank, inc.complaint_to_12378)


# ---- mapping -----------------------------------------------------------------------------


def test_expected_mapping_covers_every_behavior():
    assert set(EXPECTED) == set(BEHAVIORS)


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_behavior_maps_to_its_provisions(behavior):
    established, conditional = EXPECTED[behavior]
    inc = incident((behavior,))
    (event,) = inc.events
    assert event.behavior == behavior
    holds = {p.id for f in event.findings if f.open_condition is None for p in f.provisions}
    depends = {p.id for f in event.findings if f.open_condition for p in f.provisions}
    assert (holds, depends) == (established, conditional)
    # the record shows every finding, the conditional ones with their condition
    assert cited_ok(inc.summary) == {KB.provisions[p].citation for p in established | conditional}
    assert inc.summary.count("这要看：") == sum(1 for f in event.findings if f.open_condition)
    # the complaints state the fact and cite only what holds on it
    for doc in (inc.complaint_to_bank, inc.complaint_to_12378):
        assert cited_ok(doc) == {KB.provisions[p].citation for p in established}
        assert "这要看" not in doc
    assert FLOWS.incident.behaviors[behavior].fact in inc.summary


def test_frequent_polite_calls_are_a_fact_not_a_breach():
    inc = incident(("频繁来电",))
    assert "这要看：电话带有辱骂、威胁" in inc.summary
    assert "第五十条" not in inc.complaint_to_bank
    assert FLOWS.incident.behaviors["频繁来电"].fact in inc.complaint_to_bank


def test_frequent_insulting_calls_breach_the_harassment_rule():
    inc = incident(("频繁来电", "辱骂"))
    calls = next(e for e in inc.events if e.behavior == "频繁来电")
    assert all(f.open_condition is None for f in calls.findings)
    assert "《治安管理处罚法》第五十条" in inc.complaint_to_bank
    assert "《民法典》第一千零三十三条" in inc.complaint_to_bank


def test_outside_the_door_is_harassment_inside_is_intrusion():
    outside = incident(("门外不走",))
    inside = incident(("拒不离开",))
    assert "第二百四十五条" not in outside.summary and "第四十七条" not in outside.summary
    assert "第五十条" in outside.summary and "这要看" in outside.summary
    assert "《刑法》第二百四十五条" in inside.complaint_to_bank
    assert "《治安管理处罚法》第四十七条" in inside.complaint_to_bank


def test_blocking_the_door_is_confinement_only_when_confined():
    blocked = incident(("堵门",))
    assert "第二百三十八条" not in blocked.complaint_to_bank
    assert "把你困在家里" in blocked.summary
    confined = incident(("堵门", "限制自由"))
    assert "《刑法》第二百三十八条" in confined.complaint_to_bank


def test_posting_notices_is_a_crime_only_when_insulting_and_serious():
    inc = incident(("张贴",))
    assert "第二百四十六条" not in inc.complaint_to_bank
    assert "《民法典》第一千零三十二条" in inc.complaint_to_bank
    assert "情节严重" in inc.summary


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_urgent_behaviors_send_to_110(behavior):
    inc = incident((behavior,))
    assert inc.urgent is (behavior in URGENT)
    urgent_step = FLOWS.incident.next_steps["urgent"][0]
    assert (urgent_step in inc.next_steps) is (behavior in URGENT)
    assert "110" in urgent_step


def test_every_incident_provision_exists():
    for spec in FLOWS.incident.behaviors.values():
        assert all(pid in KB.provisions for pid in spec.provisions)
    assert all(pid in KB.provisions for rule in FLOWS.incident.relation_rules for pid in rule.provisions)


def test_contacting_relatives_is_not_a_breach_by_itself():
    inc = incident((), contacted=("父母", "同事"))
    assert inc.events == ()
    assert all(f.open_condition for f in inc.contact_findings)
    assert "这要看：对方向他们透露了你的欠款" in inc.summary
    assert "第六十八条" not in inc.complaint_to_bank  # stated as a fact, no legal conclusion
    assert "父母、同事" in inc.summary and "父母、同事" in inc.complaint_to_bank
    assert any("没有替你还钱的义务" in s for s in inc.next_steps)


def test_telling_relatives_about_the_debt_breaches_the_third_party_rules():
    inc = incident(("曝光隐私",), contacted=("父母",))
    cited = {p.id for f in inc.contact_findings if f.open_condition is None for p in f.provisions}
    assert cited == {"card_rules_68", "pipl_10", "civil_code_1038"}
    assert "《商业银行信用卡业务监督管理办法》第六十八条" in inc.complaint_to_bank


def test_incident_provisions_are_the_union():
    inc = incident(("威胁", "辱骂", "深夜催收"), contacted=("朋友",))
    assert [p.id for p in inc.provisions] == [
        "public_security_50",
        "card_rules_68",
        "bank_assoc_2026_hours",
        "pipl_10",
        "civil_code_1038",
        "bank_assoc_2026_conduct",
    ]


# ---- the record and complaints -------------------------------------------------------------


def test_summary_is_dated_and_phrased_as_possible_breach():
    inc = incident(("威胁", "泼油漆", "深夜催收"), contacted=("父母",), evidence=("录音", "截图"))
    assert inc.summary.startswith("催收情况记录")
    assert "记录日期：2026年11月22日" in inc.summary
    assert "昨晚十点" in inc.summary
    assert "可能违反《治安管理处罚法》第五十条" in inc.summary
    # self-regulation is never passed off as law
    assert "可能不符合《金融机构个人消费类贷款催收工作指引（试行）》" in inc.summary
    assert "不是法律" in inc.summary
    for doc in documents(inc):
        assert "已构成" not in doc and "构成犯罪" not in doc and "一定" not in doc


def test_complaints_remind_to_tell_the_truth():
    inc = incident()
    for doc in (inc.complaint_to_bank, inc.complaint_to_12378):
        assert FLOWS.incident.truth_reminder in doc
        assert "不夸大" in doc and "不编造" in doc and "法律责任" in doc
        assert "【姓名】" in doc and "2026年11月22日" in doc and "昨晚十点" in doc
    assert "12378" in inc.complaint_to_12378
    assert "招商银行" in inc.complaint_to_bank


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_complaint_never_contains_behaviours_not_given(behavior):
    inc = incident((behavior,), evidence=())
    for doc in documents(inc):
        doc = CONDITION.sub("", doc)  # a condition ("这要看：电话带有辱骂、威胁…") is not a claim
        for other in BEHAVIORS:
            if other == behavior:
                continue
            assert FLOWS.incident.behaviors[other].fact not in doc, (behavior, other)
            assert other not in doc, (behavior, other)


@pytest.mark.parametrize("relation", RELATIONS)
def test_complaint_names_only_the_people_given(relation):
    inc = incident(("辱骂",), contacted=(relation,))
    for doc in documents(inc):
        assert relation in doc
        for other in RELATIONS:
            if other != relation and other not in relation:
                assert other not in doc, (relation, other)


@pytest.mark.parametrize("given", [("录音",), ("录像", "证人"), ("截图", "通话记录"), ("没有",), ()])
def test_evidence_list_is_what_was_given(given):
    inc = incident(("辱骂",), evidence=given)
    real = [e for e in given if e != "没有"]
    for doc in documents(inc):
        for item in EVIDENCE:
            if item == "没有":
                continue
            assert (item in doc) is (item in real), (item, doc)
        if not real:
            assert "现有证据：暂无" in doc
    assert any("还没有证据" in s for s in inc.next_steps) is (not real)


def test_no_provisions_means_no_citation():
    inc = incident(("上门", "不出示证件"))
    for doc in documents(inc):
        assert not cited_ok(doc)
    assert "请核实处理" in inc.complaint_to_bank


def test_all_behaviors_and_people_fit_in_a_complaint():
    inc = incident(BEHAVIORS, contacted=RELATIONS, evidence=EVIDENCE)
    assert len(inc.complaint_to_bank) <= 900
    assert len(inc.complaint_to_12378) <= 900
    for doc in documents(inc):
        cited_ok(doc)
        assert not LONG_DIGITS.search(doc)
    # each citation appears once in the complaint's assessment
    assessment = [line for line in inc.complaint_to_bank.split("\n") if line.startswith("上述情况")][0]
    found = [m.group(0) for m in CITATION.finditer(assessment)]
    assert len(found) == len(set(found))


def test_typical_summary_fits_a_message():
    inc = incident(
        ("威胁", "辱骂", "频繁来电", "爆通讯录", "深夜催收", "上门"),
        contacted=("父母", "单位"),
        evidence=("录音", "截图"),
    )
    assert len(inc.summary) <= 900


def test_unknown_time_and_bank_become_placeholders():
    inc = map_incident(("辱骂",), "", (), (), None, TODAY)
    assert inc.bank is None
    for doc in documents(inc):
        assert "【请填写发生时间】" in doc and "【银行名称】" in doc


def test_bank_alias_is_canonical():
    inc = incident(bank="中信")
    assert inc.bank == "中信银行" and "中信银行" in inc.complaint_to_bank


@pytest.mark.parametrize(
    "number", ["13800138000", "138-0013-8000", "138 0013 8000", "010-12345678", "11010119900307777X"]
)
def test_phone_or_id_number_in_free_text_is_masked(number):
    inc = incident(when=f"昨晚十点 {number}打来")
    for doc in documents(inc):
        assert number not in doc
        assert sum(c.isdigit() for c in doc.split("日期")[0]) < 20
        assert not LONG_DIGITS.search(doc)
    for readable in ("2026年11月21日晚上10点", "2026-11-21 22:30"):  # dates stay readable
        assert validate_when(readable) == readable


@pytest.mark.parametrize(
    "behaviors, contacted, key",
    [
        (("冒充警察",), (), "impersonation"),
        (("冒充法院",), (), "impersonation"),
        (("转账私人账户",), (), "payment"),
        (("索要额外费用",), (), "payment"),
        (("辱骂",), ("配偶",), "spouse"),
        (("张贴",), (), "privacy"),
        (("曝光隐私",), (), "privacy"),
    ],
)
def test_situational_next_steps(behaviors, contacted, key):
    inc = incident(behaviors, contacted=contacted)
    assert FLOWS.incident.next_steps[key][0] in inc.next_steps
    for step in FLOWS.incident.next_steps["always"]:
        assert step in inc.next_steps


# ---- validators --------------------------------------------------------------------------------


def test_validators_accept_and_dedupe():
    assert validate_behaviors(["威胁", "威胁", "辱骂"]) == ("威胁", "辱骂")
    assert validate_behaviors("威胁") == ("威胁",)
    assert validate_relations(()) == ()
    assert validate_evidence(["没有", "录音"]) == ("录音",)
    assert validate_evidence(["没有"]) == ("没有",)
    assert validate_evidence([]) == ()
    assert validate_when(None) == "" and validate_when("  昨晚十点 ") == "昨晚十点"


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_behaviors(["骚扰"]),
        lambda: validate_relations(["老板"]),
        lambda: validate_evidence(["视频"]),
        lambda: validate_when(20261122),
        lambda: validate_when("很" * 61),
        lambda: map_incident((), "昨晚", (), (), None, TODAY),
        lambda: map_incident(("威胁",), "昨晚", (), (), None, "2026-11-22"),
        lambda: map_incident(("威胁",), "昨晚", (), (), "", TODAY),
    ],
)
def test_validators_reject_bad_input(call):
    with pytest.raises(ValueError):
        call()


def test_event_and_incident_are_immutable():
    inc = incident()
    assert isinstance(inc.events[0], Event)
    with pytest.raises(FrozenInstanceError):
        inc.summary = "x"  # type: ignore[misc]
