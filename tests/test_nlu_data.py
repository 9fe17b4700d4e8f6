"""Static checks on the NLU training data, the held-out NLU test set and the
benchmark's jieba user dictionary.

These tests do not train a model; they guard the data contract:
  * every intent of /work/shared/intents.md (hard-coded below) has enough
    training examples, a share of them in Traditional characters;
  * the held-out test set (tests/test_nlu.yml) never overlaps the training data;
  * what `rasa train` reads raises no warning (Rasa warns when it skips an example or
    ignores data: so the training data has no entity annotations, the patterns in
    data/patterns are the entity model);
  * the test set's entity values are normalised (integers for money/durations, canonical
    names for bank/relation/behavior);
  * bench/data/jieba_user_dict/user_dict.txt (pipeline (c) of `make bench`; config.yml
    does not use it) is a loadable jieba user dictionary that keeps the domain
    terms in one piece, so that comparison stays a fair one.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import jieba
import opencc
import pytest
import yaml
from rasa.engine.recipes.recipe import Recipe
from rasa.graph_components.validators.default_recipe_validator import DefaultV1RecipeValidator
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.utils.io import read_yaml_file

from actions.advice.facts import BEHAVIORS, NUMERIC_FACTS, RELATIONS
from actions.advice.kb import load_kb
from tests.contract import ADVISORY_INTENTS, CONTRACT_ENTITIES

ROOT = Path(__file__).resolve().parents[1]
NLU_DIR = ROOT / "data" / "nlu"
STORIES_DIR = ROOT / "tests" / "stories"
TEST_SET = ROOT / "tests" / "test_nlu.yml"
USER_DICT = ROOT / "bench" / "data" / "jieba_user_dict" / "user_dict.txt"

# --- the contract (intents.md) ----------------------------------------------
CONVERSATION_INTENTS = [
    "inform",
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank",
    "bot_challenge",
    "ask_capabilities",
    "request_human",
    "delete_my_data",
    "out_of_scope",
]
CONTRACT_INTENTS = ADVISORY_INTENTS + CONVERSATION_INTENTS
# intents added on top of the contract (flows and legal-basis follow-up)
EXTRA_INTENTS = [
    "ask_legal_basis",
    "start_collector_check",
    "start_installment_plan",
    "start_incident_log",
    "cancel",
    "request_case_summary",
]
ALL_INTENTS = CONTRACT_INTENTS + EXTRA_INTENTS
# Punctuation-only input; addons.components.input_guard forces it, so it has no script or size quota.
GUARD_INTENTS = ["empty_message"]

MIN_ADVISORY = 40
MIN_OTHER = 15
MIN_BROAD = {"inform": 60, "out_of_scope": 60}
MIN_TEST_PER_INTENT = 12
MIN_TRADITIONAL_SHARE = 0.15

# --- entities ------------------------------------------------------------------
ENTITIES = CONTRACT_ENTITIES
INTEGER_ENTITIES = NUMERIC_FACTS & CONTRACT_ENTITIES
BANKS = {bank.name for bank in load_kb().banks}  # the canonical names the knowledge base knows
# non-bank lenders keep their own name
OTHER_LENDERS = {"花呗", "借呗", "拍拍贷", "京东白条", "微粒贷"}
CANONICAL = {"bank": BANKS | OTHER_LENDERS, "relation": set(RELATIONS), "behavior": set(BEHAVIORS)}

_T2S = opencc.OpenCC("t2s")


def is_traditional(text: str) -> bool:
    return _T2S.convert(text) != text


def normalise(text: str) -> str:
    """Whitespace/punctuation/symbols stripped, Traditional folded, lower-cased."""
    text = _T2S.convert(unicodedata.normalize("NFKC", text)).lower()
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in {"P", "S", "Z"})


def _by_intent(training_data):
    grouped = defaultdict(list)
    for message in training_data.training_examples:
        grouped[message.get("intent")].append(message)
    return grouped


# --- fixtures ------------------------------------------------------------------
@pytest.fixture(scope="module")
def train():
    return load_data(str(NLU_DIR))


@pytest.fixture(scope="module")
def train_by_intent(train):
    return _by_intent(train)


@pytest.fixture(scope="module")
def test_set():
    return load_data(str(TEST_SET))


@pytest.fixture(scope="module")
def test_by_intent(test_set):
    return _by_intent(test_set)


# --- training data ---------------------------------------------------------------
def test_nlu_files_are_rasa_31_yaml():
    files = sorted(NLU_DIR.glob("*.yml"))
    assert files, "no data/nlu/*.yml files"
    for path in files + [TEST_SET]:
        content = read_yaml_file(str(path))
        assert str(content.get("version")) == "3.1", path
        assert content.get("nlu"), f"{path} has no nlu section"


@pytest.mark.parametrize("intent", ALL_INTENTS)
def test_enough_training_examples(train_by_intent, intent):
    if intent in MIN_BROAD:
        minimum = MIN_BROAD[intent]
    elif intent in ADVISORY_INTENTS:
        minimum = MIN_ADVISORY
    else:
        minimum = MIN_OTHER
    count = len(train_by_intent.get(intent, []))
    assert count >= minimum, f"{intent}: {count} examples < {minimum}"


def test_no_unknown_training_intents(train_by_intent):
    known = set(ALL_INTENTS + GUARD_INTENTS)
    assert set(train_by_intent) <= known, set(train_by_intent) - known


@pytest.mark.parametrize("intent", ALL_INTENTS)
def test_traditional_share(train_by_intent, intent):
    examples = [m.get("text") for m in train_by_intent.get(intent, [])]
    assert examples, intent
    share = sum(map(is_traditional, examples)) / len(examples)
    assert share >= MIN_TRADITIONAL_SHARE, f"{intent}: only {share:.0%} Traditional"


def test_no_duplicate_training_examples(train):
    seen = {}
    clashes = []
    for message in train.training_examples:
        if message.get("intent") in GUARD_INTENTS:
            continue
        key = normalise(message.get("text"))
        if key in seen:
            clashes.append((message.get("text"), message.get("intent"), seen[key]))
        seen[key] = message.get("intent")
    assert not clashes, clashes[:20]


# --- held-out test set -----------------------------------------------------------
def test_test_set_intents_are_known(test_set):
    unknown = {m.get("intent") for m in test_set.training_examples} - set(ALL_INTENTS)
    assert not unknown, unknown
    assert all(m.get("intent") for m in test_set.training_examples)


# Button payloads: natural requests for a flow belong to the contract intent ("帮我算一下分期" is
# ask_installment_negotiation; the action starts the flow from its wording), so these are short commands.
PAYLOAD_INTENTS = ("start_collector_check", "start_installment_plan", "start_incident_log")
MIN_TEST_PAYLOAD = 3


@pytest.mark.parametrize("intent", ALL_INTENTS)
def test_test_set_covers_intent(test_by_intent, intent):
    count = len(test_by_intent.get(intent, []))
    minimum = MIN_TEST_PAYLOAD if intent in PAYLOAD_INTENTS else MIN_TEST_PER_INTENT
    assert count >= minimum, f"{intent}: {count} test examples"


def test_test_set_is_held_out(train, test_set):
    training = {normalise(m.get("text")) for m in train.training_examples}
    leaked = [m.get("text") for m in test_set.training_examples if normalise(m.get("text")) in training]
    assert not leaked, leaked


def test_test_set_has_no_internal_duplicates(test_set):
    counts = Counter(normalise(m.get("text")) for m in test_set.training_examples)
    assert not [k for k, n in counts.items() if n > 1]


def test_test_set_traditional_share(test_set):
    texts = [m.get("text") for m in test_set.training_examples]
    share = sum(map(is_traditional, texts)) / len(texts)
    assert share >= MIN_TRADITIONAL_SHARE, f"only {share:.0%} Traditional"


# --- entities --------------------------------------------------------------------
def _entities(data):
    for message in data.training_examples:
        for entity in message.get("entities") or []:
            yield message.get("text"), entity


def test_training_data_has_no_entity_annotations(train):
    """ChineseEntityExtractor is built from data/patterns and trains on nothing: Rasa warns that
    annotations would go unused, and an annotated value other than the text would be a synonym
    that no EntitySynonymMapper applies. What a mention means (招行 -> 招商银行) is a pattern."""
    annotated = [m.get("text") for m in train.entity_examples]
    assert not annotated, annotated[:20]
    assert not train.entity_synonyms


def test_entity_values_are_normalised(test_set):
    problems = []
    for text, entity in _entities(test_set):
        name, value = entity["entity"], str(entity.get("value"))
        if name not in ENTITIES:
            problems.append((text, name, "unknown entity"))
        elif name in INTEGER_ENTITIES and not re.fullmatch(r"\d+", value):
            problems.append((text, name, value))
        elif name in CANONICAL and value not in CANONICAL[name]:
            problems.append((text, name, value))
        if not 0 <= entity["start"] < entity["end"] <= len(text):
            problems.append((text, name, "bad span"))
    assert not problems, problems[:20]


def test_every_entity_type_is_annotated(test_set):
    seen = {entity["entity"] for _, entity in _entities(test_set)}
    assert seen == ENTITIES, ENTITIES - seen


# --- no warnings from Rasa's readers ------------------------------------------------------
# Raised for every domain that has slots, whatever they are (rasa.shared.core.slot_mappings).
SLOT_NOTICE = "Slot auto-fill has been removed in 3.0"


def test_what_rasa_train_reads_raises_no_warning():
    """A warning there means a skipped example ("doesn't start with a '-'") or ignored data. `rasa data
    validate` does not run the recipe validator of `rasa train`; this reads the data the way training does."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importer = TrainingDataImporter.load_from_config(
            str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
        )
        config = importer.get_config()
        schema = Recipe.recipe_for_name(config.get("recipe")).graph_config_for_recipe(config, {}).train_schema
        DefaultV1RecipeValidator(schema).validate(importer)  # loads the NLU data, the rules and the domain
        load_data(str(TEST_SET))
        for stories in sorted(STORIES_DIR.glob("*.yml")):
            YAMLStoryReader(importer.get_domain(), source_name=str(stories)).read_from_file(stories)
    problems = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if issubclass(w.category, (UserWarning, FutureWarning)) and not str(w.message).startswith(SLOT_NOTICE)
    ]
    assert not problems, problems


# --- jieba user dictionary -----------------------------------------------------------
LINE = re.compile(r"^(?P<word>\S+)(?: (?P<freq>\d+)(?: (?P<tag>[A-Za-z]+))?)?$")


def _dict_lines():
    return [line for line in USER_DICT.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_user_dict_format():
    lines = _dict_lines()
    assert 100 <= len(lines) <= 200, len(lines)
    bad = [line for line in lines if not LINE.match(line)]
    assert not bad, bad
    words = [line.split()[0] for line in lines]
    assert len(words) == len(set(words)), [w for w, n in Counter(words).items() if n > 1]


@pytest.fixture(scope="module")
def tokenizer():
    tok = jieba.Tokenizer()
    tok.load_userdict(str(USER_DICT))
    return tok


@pytest.mark.parametrize(
    "sentence, term",
    [
        ("能申请停息挂账吗", "停息挂账"),
        ("怎么申请个性化分期", "个性化分期"),
        ("催收爆通讯录了怎么办", "爆通讯录"),
        ("什么情况算恶意透支", "恶意透支"),
        ("变成失信被执行人会怎样", "失信被执行人"),
        ("他们说要在门口泼油漆", "泼油漆"),
        ("收到律师函是真的吗", "律师函"),
        ("广发卡欠了四万三", "广发卡"),
        ("拍拍贷逾期会上征信吗", "拍拍贷"),
        ("打12378投诉", "12378"),
    ],
)
def test_user_dict_keeps_domain_terms(tokenizer, sentence, term):
    assert term in tokenizer.lcut(sentence), tokenizer.lcut(sentence)


# --- the realistic set (tests/realistic_nlu.yml): written from scenarios, never trained on ----
REALISTIC = Path(__file__).resolve().parent / "realistic_nlu.yml"
KINDS = {
    "long_story",
    "fragment",
    "typo",
    "dialect",
    "mixed",
    "emoji",
    "traditional",
    "taiwan_hk",
    "out_of_scope_near",
    "out_of_scope_far",
    "live_emergency",
    "danger_not_now",
    "multi_worry",
    "fake_authority",
    "plain",
}


@pytest.fixture(scope="module")
def realistic():
    data = yaml.safe_load(REALISTIC.read_text(encoding="utf-8"))
    return [(block["intent"], e["text"], e.get("metadata") or {}) for block in data["nlu"] for e in block["examples"]]


def test_realistic_set_is_never_in_the_training_data(train, realistic):
    training = {normalise(m.get("text")) for m in train.training_examples}
    leaked = [text for _, text, _ in realistic if normalise(text) in training]
    assert not leaked, leaked


def test_realistic_set_has_the_mix_the_issue_asks_for(realistic):
    n = len(realistic)
    kinds = [set(meta.get("kinds") or []) for _, _, meta in realistic]
    assert all(k <= KINDS for k in kinds)
    share = lambda wanted: sum(1 for k in kinds if k & wanted) / n  # noqa: E731
    assert n >= 500
    assert share({"long_story"}) >= 0.30 and share({"fragment"}) >= 0.15
    assert share({"typo", "dialect", "mixed", "emoji"}) >= 0.15 and share({"traditional"}) >= 0.20
    out_of_scope = [k for (intent, _, _), k in zip(realistic, kinds) if intent == "out_of_scope"]
    assert len(out_of_scope) >= 80 and sum("out_of_scope_near" in k for k in out_of_scope) >= 40
    assert sum("live_emergency" in k for k in kinds) >= 40 and sum("danger_not_now" in k for k in kinds) >= 40
    for (intent, text, _), k in zip(realistic, kinds):
        assert intent in CONTRACT_INTENTS, intent
        if "long_story" in k:
            assert len(text) >= 40, text
        if "fragment" in k:
            assert len(text) <= 8, text
        if "live_emergency" in k:
            assert intent == "emergency_now", text
        if "danger_not_now" in k:
            assert intent != "emergency_now", text
