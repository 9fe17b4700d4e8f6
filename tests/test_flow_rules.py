"""Every question a user may ask mid-flow has a rule that answers it and resumes the flow."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.advice.kb import load_kb

ROOT = Path(__file__).resolve().parent.parent
FORMS = ("collector_check_form", "installment_plan_form", "incident_log_form")
ALSO_INTERRUPTING = ("bot_challenge", "ask_capabilities", "request_human", "ask_legal_basis", "empty_message",
                     "request_case_summary")


def _rules():
    return yaml.safe_load((ROOT / "data" / "rules" / "flow_interruptions.yml").read_text(encoding="utf-8"))["rules"]


def _resuming(form):
    found = set()
    for rule in _rules():
        condition = rule.get("condition") or []
        steps = rule["steps"]
        if {"active_loop": form} in condition and steps[-2:] == [{"action": form}, {"active_loop": form}]:
            found.add(steps[0]["intent"])
    return found


@pytest.mark.parametrize("form", FORMS)
def test_every_advisory_question_resumes_the_flow(form):
    expected = set(load_kb().guidance) | set(ALSO_INTERRUPTING)
    assert expected <= _resuming(form), expected - _resuming(form)


@pytest.mark.parametrize("form", FORMS)
def test_cancel_goodbye_and_delete_end_the_flow(form):
    ending = set()
    for rules_file in ("flows.yml", "flow_interruptions.yml"):
        for rule in yaml.safe_load((ROOT / "data" / "rules" / rules_file).read_text(encoding="utf-8"))["rules"]:
            if {"active_loop": form} in (rule.get("condition") or []) and {"action": "action_deactivate_loop"} in rule["steps"]:
                ending.add(rule["steps"][0].get("intent"))
    assert {"cancel", "goodbye", "delete_my_data"} <= ending


def test_generated_rules_are_up_to_date():
    """data/rules/flow_interruptions.yml is generated from a table: edit the table, regenerate."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_flow_rules.py"), "--check"], cwd=ROOT)
    assert result.returncode == 0, "run: python scripts/generate_flow_rules.py"
