"""ChineseEntityExtractor: patterns, jieba robustness, persistence and Rasa training.

Inputs are Simplified Chinese with half-width characters, as the pipeline's
normaliser (addons.text_normalizer) produces them before this component runs.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List

import jieba
import jieba.finalseg
import pytest

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons import entity_patterns
from addons.entity_extractor import ChineseEntityExtractor

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = ROOT / "data" / "patterns"
DICTIONARIES = ROOT / "bench" / "data" / "jieba_user_dict"  # a domain dictionary (benchmark pipeline (c))

jieba.setLogLevel(logging.WARNING)


# --------------------------------------------------------------------------- #
# jieba's process-global state: another component of the process may load a user
# dictionary into it (config.yml does not; the benchmark's pipeline (c) does), and
# jieba may cut words either way.

@contextlib.contextmanager
def jieba_state(variant: str) -> Iterator[None]:
    """Apply a jieba dictionary variant, then restore the global state."""
    jieba.dt.check_initialized()
    freq, total = dict(jieba.dt.FREQ), jieba.dt.total
    tags = dict(jieba.dt.user_word_tag_tab)
    force_split = set(jieba.finalseg.Force_Split_Words)
    try:
        if variant == "domain_dictionary":
            for path in sorted(DICTIONARIES.glob("*")):
                if path.is_file():
                    jieba.load_userdict(str(path))
        elif variant == "glued_words":
            # Words that swallow a neighbour of a surface form.
            for w in ["上门催收", "催收员上门", "招商银行信用卡", "工资到手", "月工资", "门口泼",
                      "泼红", "说是警察", "打电话骂", "天天打电话", "爸妈说", "花都",
                      "单位找", "老婆打", "村委会找", "通讯录里", "威胁我说"]:
                jieba.add_word(w, 200000)
        elif variant == "split_words":
            # Words cut into pieces: 招商银行 -> 招商 | 银行.
            for w in ["招商银行", "中国银行", "交通银行", "信用卡", "紧急联系人", "通讯录", "油漆",
                      "家里人", "七大姑八大姨", "村委会", "居委会", "冒充", "警察", "爸妈", "单位",
                      "工作证", "泼油漆", "跟踪", "老婆", "邻居", "同事", "家门口"]:
                jieba.del_word(w)
        elif variant != "default":
            raise ValueError(variant)
        yield
    finally:
        jieba.dt.FREQ = freq
        jieba.dt.total = total
        jieba.dt.user_word_tag_tab = tags
        jieba.finalseg.Force_Split_Words.clear()
        jieba.finalseg.Force_Split_Words.update(force_split)


JIEBA_VARIANTS = ["default", "domain_dictionary", "glued_words", "split_words"]


# --------------------------------------------------------------------------- #
# Training and loading through Rasa's model storage (the real persistence path).

def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def train_and_load(storage_dir: Path, config: Dict[str, Any]) -> ChineseEntityExtractor:
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(storage_dir)
    resource = Resource("train_ChineseEntityExtractor5")
    trained = ChineseEntityExtractor.create(config, storage, resource, _context())
    assert trained.train(TrainingData()) == resource
    return ChineseEntityExtractor.load(config, storage, resource, _context())


@pytest.fixture(scope="module")
def extractor(tmp_path_factory) -> ChineseEntityExtractor:
    with jieba_state("default"):
        return train_and_load(
            tmp_path_factory.mktemp("model_storage"), {"patterns_path": str(PATTERNS)}
        )


def run(component: ChineseEntityExtractor, text: str, existing=None) -> List[Dict[str, Any]]:
    message = Message(data={"text": text})
    if existing is not None:
        message.set("entities", existing)
    component.process([message])
    return message.get("entities") or []


def values(entities, entity: str) -> List[Any]:
    return [e["value"] for e in entities if e["entity"] == entity]


# --------------------------------------------------------------------------- #
# Real sentences: each expected (entity, value) must be found.

SENTENCES = [
    # the brief's examples
    ("我欠了招行四万三", {"bank": "招商银行", "amount": 43000}),
    ("每个月工资六千房租两千", {"monthly_income": 6000, "monthly_expense": 2000}),
    ("逾期三个多月了", {"overdue_duration": 90}),
    ("催收打电话给我爸妈", {"relation": "父母"}),
    ("他们说要来我单位", {"relation": "单位"}),
    ("在我家门口泼油漆", {"behavior": "泼油漆"}),
    ("说自己是警察", {"behavior": "冒充警察"}),
    # banks and lenders
    ("招商银行的信用卡逾期了", {"bank": "招商银行"}),
    ("招商银行信用卡欠了5w", {"bank": "招商银行", "amount": 50000}),
    ("招商信用卡还不上了", {"bank": "招商银行"}),
    ("欠了工行三万多", {"bank": "工商银行", "amount": 30000}),
    ("建行和农行都逾期了", {"bank": ["建设银行", "农业银行"]}),
    ("中国银行催收天天打电话", {"bank": "中国银行", "behavior": "频繁来电"}),
    ("中行的卡", {"bank": "中国银行"}),
    ("我的交通银行信用卡欠了5w", {"bank": "交通银行", "amount": 50000}),
    ("交行也有一张", {"bank": "交通银行"}),
    ("中信银行的催收员上门了", {"bank": "中信银行", "behavior": "上门"}),
    ("浦发说要起诉我", {"bank": "浦发银行"}),
    ("民生银行信用卡逾期半年", {"bank": "民生银行", "overdue_duration": 180}),
    ("光大的催收骂我", {"bank": "光大银行", "behavior": "辱骂"}),
    ("兴业银行透支了2万5", {"bank": "兴业银行", "amount": 25000}),
    ("平安信用卡欠了4.3w", {"bank": "平安银行", "amount": 43000}),
    ("华夏银行逾期一年半", {"bank": "华夏银行", "overdue_duration": 545}),
    ("广发卡欠了一万二", {"bank": "广发银行", "amount": 12000}),
    ("邮储银行信用卡", {"bank": "邮储银行"}),
    ("宁波银行的信用卡逾期了会怎样", {"bank": "宁波银行"}),
    ("北京银行信用卡逾期会不会被起诉", {"bank": "北京银行"}),
    ("农商行的贷款还不上", {"bank": "农商银行"}),
    ("微众银行欠了二十多万", {"bank": "微众银行", "amount": 200000}),
    ("邮政储蓄的贷款", {"bank": "邮储银行"}),
    ("花呗借呗都逾期了", {"bank": ["花呗", "借呗"]}),
    ("拍拍贷天天爆我通讯录", {"bank": "拍拍贷", "behavior": "爆通讯录", "relation": "通讯录"}),
    ("京东白条欠了3千", {"bank": "京东白条", "amount": 3000}),
    ("白条逾期了", {"bank": "京东白条"}),
    ("微粒贷逾期两个月", {"bank": "微粒贷", "overdue_duration": 60}),
    ("美团月付逾期20天", {"bank": "美团月付", "overdue_duration": 20}),
    ("招联金融打电话给我爸妈", {"bank": "招联金融", "relation": "父母"}),
    ("马上消费金融说要上门", {"bank": "马上消费金融", "behavior": "上门"}),
    ("360借条威胁我", {"bank": "360借条", "behavior": "威胁"}),
    ("分期乐安逸花都欠着", {"bank": ["分期乐", "马上消费金融"]}),
    # relations
    ("催收给我老婆打电话", {"relation": "配偶"}),
    ("打给我老公和孩子", {"relation": ["配偶", "子女"]}),
    ("联系了我哥哥姐姐", {"relation": "兄弟姐妹"}),
    ("给我家里人打电话", {"relation": "亲戚"}),
    ("七大姑八大姨都知道了", {"relation": "亲戚"}),
    ("打给我同学和朋友", {"relation": "朋友"}),
    ("打电话到我公司找老板", {"relation": "单位"}),
    ("打电话给HR了", {"relation": "单位"}),
    ("打给我们领导和上司", {"relation": "领导"}),
    ("邻居都知道了", {"relation": "邻居"}),
    ("通讯录里的联系人都被打了", {"relation": "通讯录", "behavior": "爆通讯录"}),
    ("我的紧急联系人被骚扰", {"relation": "紧急联系人"}),
    ("去物业那里闹", {"relation": "物业"}),
    ("去村委会找我", {"relation": "村委会"}),
    ("打到居委会", {"relation": "村委会"}),
    ("催收去了我岳父母家", {"relation": "亲戚"}),
    ("给我同事打电话", {"relation": "同事"}),
    # behaviors
    ("他们恐吓我说要弄死我", {"behavior": "威胁"}),
    ("催收员吓唬我", {"behavior": "威胁"}),
    ("催收说要找人打我", {"behavior": "威胁"}),
    ("催收天天打电话骂我怎么办", {"behavior": ["频繁来电", "辱骂"]}),
    ("一天打几十个电话轰炸我", {"behavior": "频繁来电"}),
    ("讨债的人一天打三十几通电话", {"behavior": "频繁来电"}),
    ("打遍了我的通讯录", {"behavior": "爆通讯录"}),
    ("在门上泼红油漆", {"behavior": "泼油漆"}),
    ("他们说要在我家门口泼漆", {"behavior": "泼油漆"}),
    ("堵在门口不让我出去", {"behavior": ["堵门", "限制自由"]}),
    ("堵我家门", {"behavior": "堵门"}),
    ("踹门砸门", {"behavior": "砸门"}),
    ("催收正在踢我家门", {"behavior": "砸门"}),
    ("他们闯进来了不肯走", {"behavior": ["闯入", "拒不离开"]}),
    ("冲进我家赖着不走", {"behavior": ["闯入", "拒不离开"]}),
    ("进了我家", {"behavior": "闯入"}),
    ("说是法院的人", {"behavior": "冒充法院"}),
    ("冒充法院的人给我打电话", {"behavior": "冒充法院"}),
    ("冒充公安", {"behavior": "冒充警察"}),
    ("说是警察", {"behavior": "冒充警察"}),
    ("不给看证件", {"behavior": "不出示证件"}),
    ("不出示工作证", {"behavior": "不出示证件"}),
    ("他们没出示任何证件", {"behavior": "不出示证件"}),
    ("一直跟踪我", {"behavior": "跟踪"}),
    ("动手打我", {"behavior": "殴打"}),
    ("扣着我不让我走", {"behavior": "限制自由"}),
    ("把门锁撬了砸坏东西", {"behavior": "损坏财物"}),
    ("在门上贴大字报", {"behavior": "张贴"}),
    ("贴告示在小区", {"behavior": "张贴"}),
    ("贴在门上了", {"behavior": "张贴"}),
    ("半夜打电话", {"behavior": "深夜催收"}),
    ("晚上十一点还打电话", {"behavior": "深夜催收"}),
    ("上门了", {"behavior": "上门"}),
    ("他们来我家了", {"behavior": "上门"}),
    ("说要到我家", {"behavior": "上门"}),
    ("要收上门费", {"behavior": "索要额外费用"}),
    ("要交手续费", {"behavior": "索要额外费用"}),
    ("让我转到个人账户", {"behavior": "转账私人账户"}),
    ("打到他私人卡上", {"behavior": "转账私人账户"}),
    ("把我的照片发到群里", {"behavior": "曝光隐私"}),
    ("说要曝光我", {"behavior": "曝光隐私"}),
    ("骂我妈", {"behavior": "辱骂", "relation": "父母"}),
    # money / duration in context
    ("我欠了四万三", {"amount": 43000}),
    ("工资到手五千", {"monthly_income": 5000}),
    ("每月花销三千左右", {"monthly_expense": 3000}),
    ("生活费一千五", {"monthly_expense": 1500}),
    ("月薪8k", {"monthly_income": 8000}),
    ("4300多", {"amount": 4300}),
    ("43000元", {"amount": 43000}),
    ("两万块", {"amount": 20000}),
    ("欠了大概4,300元", {"amount": 4300}),
    ("逾期一年了", {"overdue_duration": 365}),
    ("逾期两周", {"overdue_duration": 14}),
    ("欠招行五万，工资四千，房租一千五，逾期三个月",
     {"bank": "招商银行", "amount": 50000, "monthly_income": 4000,
      "monthly_expense": 1500, "overdue_duration": 90}),
]

NO_ENTITIES = [
    "今天天气怎么样",
    "我想找律师",
    "你好",
    "谢谢你",
    "你是机器人吗",
    "推荐一只股票",
    "怎么避免信用卡逾期",
    "收到律师函是真的吗",
    "银行会起诉我吗",
    "平安夜快乐",
    "我们要发扬光大",
    "这是民生问题",
    "万一他们起诉我怎么办",
    "千万别签字",
]

# entity values that must NOT come out of these sentences
ABSENT = [
    ("他们天天打我电话", "behavior", "殴打"),
    ("催收打我手机", "behavior", "殴打"),
    ("没有动手，就是一直骂人", "behavior", "殴打"),
    ("他们没上门", "behavior", "上门"),
    ("第三方催收公司合法吗", "relation", "单位"),
    ("讨债公司跟踪我", "relation", "单位"),
    ("分期要收手续费吗", "behavior", "索要额外费用"),
    ("一天打几十个电话", "overdue_duration", 1),
    ("360借条逾期了", "amount", 360),
    ("晚上十一点还打电话", "amount", 11),
    ("我去工商局投诉", "bank", "工商银行"),
    ("家人们谁懂啊", "relation", "亲戚"),
]


def _check(entities, expected):
    for entity, want in expected.items():
        got = values(entities, entity)
        for v in want if isinstance(want, list) else [want]:
            assert v in got, f"{entity}={v!r} not in {entities}"


@pytest.mark.parametrize("text, expected", SENTENCES, ids=[s[0] for s in SENTENCES])
def test_sentences(extractor, text, expected):
    _check(run(extractor, text), expected)


@pytest.mark.parametrize("text", NO_ENTITIES)
def test_no_entities(extractor, text):
    assert run(extractor, text) == []


@pytest.mark.parametrize("text, entity, value", ABSENT, ids=[a[0] for a in ABSENT])
def test_absent(extractor, text, entity, value):
    assert value not in values(run(extractor, text), entity)


RULE_SENTENCES = [s for s in SENTENCES if set(s[1]) & {"bank", "relation", "behavior"}]


@pytest.mark.parametrize("variant", JIEBA_VARIANTS)
def test_independent_of_jieba_dictionary(extractor, variant):
    """Same entities whether or not a user dictionary changed jieba's cuts."""
    failures = []
    with jieba_state(variant):
        for text, expected in RULE_SENTENCES:
            entities = run(extractor, text)
            try:
                _check(entities, expected)
            except AssertionError as e:
                failures.append(f"{text}: {e}")
        for text in NO_ENTITIES:
            if run(extractor, text):
                failures.append(f"{text}: unexpected entities")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("variant", JIEBA_VARIANTS)
def test_bank_token_cut_either_way(extractor, variant):
    with jieba_state(variant):
        doc = extractor._matcher.nlp.make_doc("招商银行的卡")
        if variant == "split_words":
            assert [t.text for t in doc][:2] == ["招商", "银行"]
        else:
            assert doc[0].text == "招商银行"
        assert values(run(extractor, "招商银行的卡"), "bank") == ["招商银行"]


# --------------------------------------------------------------------------- #
# Entity format and message handling

def test_entity_format(extractor):
    text = "我欠了招行四万三"
    entities = run(extractor, text)
    assert entities == [
        {"entity": "bank", "value": "招商银行", "start": 3, "end": 5,
         "confidence": 1.0, "extractor": "ChineseEntityExtractor"},
        {"entity": "amount", "value": 43000, "start": 5, "end": 8,
         "confidence": 1.0, "extractor": "ChineseEntityExtractor"},
    ]
    assert [text[e["start"]:e["end"]] for e in entities] == ["招行", "四万三"]
    assert isinstance(entities[1]["value"], int)


def test_keeps_entities_of_other_extractors(extractor):
    other = {"entity": "bank", "value": "招行", "start": 3, "end": 5, "extractor": "DIETClassifier"}
    entities = run(extractor, "我欠了招行四万三", existing=[other])
    assert entities[0] == other
    assert values(entities, "bank") == ["招行", "招商银行"]


def test_repeated_mentions_are_reported_once(extractor):
    entities = run(extractor, "他骂我，天天骂我，还骂我")
    assert values(entities, "behavior").count("辱骂") == 1


def test_process_training_data_keeps_gold_annotations(extractor):
    gold = {"entity": "bank", "value": "招商银行", "start": 3, "end": 5}
    message = Message(data={"text": "我欠了招行四万三", "intent": "inform", "entities": [gold]})
    data = TrainingData([message])
    assert extractor.process_training_data(data) is data
    assert data.training_examples[0].get("entities") == [gold]


@pytest.mark.parametrize(
    "junk",
    ["", " ", "\x00\x01\x1b[31m", "😀" * 50, "欠了" + "9" * 5000, "招行四万三" * 2000,
     "一" * 10_000, "\u202e招行\u200b", "欠了\ud800两万", "a" * 10_000, "\n\n\t"],
)
def test_junk_never_raises(extractor, junk):
    for e in run(extractor, junk):
        assert 0 <= e["start"] < e["end"] <= len(junk)


def test_messages_without_text(extractor):
    messages = [Message(data={"intent": "greet"}), Message(data={"text": None})]
    assert extractor.process(messages) == messages
    assert all(not m.get("entities") for m in messages)


# --------------------------------------------------------------------------- #
# Persistence, fingerprint and pattern files

def test_persisted_into_model_storage_and_reloaded(tmp_path, extractor):
    storage_dir = tmp_path / "storage"
    loaded = train_and_load(storage_dir, {"patterns_path": str(PATTERNS)})
    resource_dir = storage_dir / "train_ChineseEntityExtractor5"
    assert (resource_dir / "spacy" / "config.cfg").is_file()
    assert (resource_dir / "spacy" / "entity_ruler" / "patterns.jsonl").is_file()
    cfg = (resource_dir / "spacy" / "config.cfg").read_text(encoding="utf-8")
    assert 'segmenter = "jieba"' in cfg
    for text, _ in SENTENCES:
        assert run(loaded, text) == run(extractor, text)


def test_missing_resource_degrades_to_quantities(tmp_path, caplog):
    storage = LocalModelStorage(tmp_path)
    component = ChineseEntityExtractor.load({}, storage, Resource("nothing_here"), _context())
    assert values(run(component, "我欠了招行四万三"), "amount") == [43000]
    assert values(run(component, "我欠了招行四万三"), "bank") == []


def test_patterns_path_relative_to_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    component = train_and_load(tmp_path, {})  # default: data/patterns
    assert values(run(component, "招行"), "bank") == ["招商银行"]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="No \\*.jsonl pattern files"):
        train_and_load(tmp_path / "other", {})


def test_fingerprint_follows_pattern_files(tmp_path, monkeypatch):
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    folder = tmp_path / "patterns"
    shutil.copytree(PATTERNS, folder)
    config = {"patterns_path": str(folder)}
    before = ChineseEntityExtractor.fingerprint_addon(config)
    key_before = calculate_fingerprint_key(ChineseEntityExtractor, config, {})
    assert ChineseEntityExtractor.fingerprint_addon(config) == before

    with (folder / "bank.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"label": "bank", "pattern": "测试银行", "id": "测试银行"},
                            ensure_ascii=False) + "\n")
    assert ChineseEntityExtractor.fingerprint_addon(config) != before
    assert calculate_fingerprint_key(ChineseEntityExtractor, config, {}) != key_before

    # relative paths are resolved from the working directory
    monkeypatch.chdir(tmp_path)
    assert ChineseEntityExtractor.fingerprint_addon({"patterns_path": "patterns"}) == \
        ChineseEntityExtractor.fingerprint_addon(config)


def test_pattern_files_are_valid():
    files = {p.name for p in entity_patterns.pattern_files(PATTERNS)}
    assert {"bank.jsonl", "relation.jsonl", "behavior.jsonl"} <= files
    rows = entity_patterns.load_patterns(PATTERNS)
    by_file_label = {"bank.jsonl": "bank", "relation.jsonl": "relation", "behavior.jsonl": "behavior"}
    for name, label in by_file_label.items():
        for line in (PATTERNS / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert set(row) == {"label", "pattern", "id"}
            assert row["label"] == label
    canonical = {
        "bank": {"工商银行", "农业银行", "中国银行", "建设银行", "交通银行", "招商银行", "中信银行",
                 "浦发银行", "民生银行", "光大银行", "兴业银行", "平安银行", "华夏银行", "广发银行",
                 "邮储银行", "花呗", "借呗", "拍拍贷", "京东白条", "微粒贷", "美团月付", "招联金融",
                 "马上消费金融", "360借条", "分期乐"},
        "relation": {"父母", "配偶", "子女", "兄弟姐妹", "亲戚", "朋友", "同事", "单位", "领导", "邻居",
                     "通讯录", "紧急联系人", "物业", "村委会"},
        "behavior": {"威胁", "辱骂", "频繁来电", "爆通讯录", "泼油漆", "堵门", "砸门", "闯入", "拒不离开",
                     "冒充警察", "冒充法院", "不出示证件", "跟踪", "殴打", "限制自由", "损坏财物", "张贴",
                     "深夜催收", "上门", "索要额外费用", "转账私人账户", "曝光隐私"},
    }
    for label, ids in canonical.items():
        found = {r["id"] for r in rows if r["label"] == label}
        assert ids <= found, ids - found
        if label != "bank":  # lenders beyond the list are allowed for banks
            assert found - {entity_patterns.NONE_ID} == ids


def test_bad_pattern_line_is_reported(tmp_path):
    (tmp_path / "bank.jsonl").write_text('{"label": "bank", "pattern": "招行", "id": "招商银行"}\n{oops\n',
                                        encoding="utf-8")
    with pytest.raises(entity_patterns.PatternError, match="bank.jsonl:2"):
        entity_patterns.load_patterns(tmp_path)


def test_every_surface_form_is_found_alone(extractor):
    """Each string pattern, said on its own, yields its own canonical value."""
    rows = entity_patterns.load_patterns(PATTERNS)
    failures = []
    for row in rows:
        if not isinstance(row["pattern"], str) or row["id"] == entity_patterns.NONE_ID:
            continue
        found = {(e.label, e.value) for e in extractor._matcher.extract(row["pattern"])}
        if (row["label"], row["id"]) not in found:
            failures.append(f"{row['pattern']} -> {sorted(found)}")
    assert not failures, failures


# --------------------------------------------------------------------------- #
# Through Rasa's own training API: graph, cache, model archive, Agent.

NLU_YAML = """version: "3.1"
nlu:
- intent: inform
  examples: |
    - 我欠了招商银行四万三
    - 工资六千
- intent: greet
  examples: |
    - 你好
    - 在吗
"""

CONFIG_YAML = """recipe: default.v1
language: zh
assistant_id: entity-extractor-test
pipeline:
  - name: JiebaTokenizer
  - name: addons.entity_extractor.ChineseEntityExtractor
    patterns_path: patterns
policies: []
"""


def _parse(model_path: str, text: str) -> Dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    return asyncio.run(agent.parse_message(text))


def test_rasa_train_packs_rules_into_archive_and_retrains_on_pattern_change(tmp_path, monkeypatch):
    from rasa.model_training import train_nlu

    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(PATTERNS, project / "patterns")
    (project / "nlu.yml").write_text(NLU_YAML, encoding="utf-8")
    (project / "config.yml").write_text(CONFIG_YAML, encoding="utf-8")
    monkeypatch.chdir(project)
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(ROOT))

    first = train_nlu("config.yml", "nlu.yml", str(tmp_path / "models"), fixed_model_name="first")
    assert first and Path(first).is_file()

    # the archive is self-contained: the patterns folder may disappear
    shutil.move(str(project / "patterns"), str(tmp_path / "patterns_moved"))
    parsed = _parse(first, "我欠了招行四万三，逾期三个月")
    got = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert {("bank", "招商银行"), ("amount", 43000), ("overdue_duration", 90)} <= got
    assert all(e["extractor"] == "ChineseEntityExtractor" for e in parsed["entities"])
    shutil.move(str(tmp_path / "patterns_moved"), str(project / "patterns"))

    # editing a patterns file changes the fingerprint: the cached ruler is not reused
    with (project / "patterns" / "bank.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"label": "bank", "pattern": "测试银行", "id": "测试银行"},
                            ensure_ascii=False) + "\n")
    second = train_nlu("config.yml", "nlu.yml", str(tmp_path / "models"), fixed_model_name="second")
    parsed = _parse(second, "测试银行的卡")
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("bank", "测试银行")]
