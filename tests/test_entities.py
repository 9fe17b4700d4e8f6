"""ChineseEntityExtractor: patterns, jieba robustness, persistence and Rasa training.

Inputs are Simplified Chinese with half-width characters, as the pipeline's
normaliser (addons.components.text_normalizer) produces them before this component runs.
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

from actions.advice.facts import BEHAVIORS, CAN_PAY, COURT_STAGES, JURISDICTIONS, LOAN_TYPES, RELATIONS
from actions.advice.kb import load_kb
from addons.components import entity_patterns
from addons.components.entity_extractor import ChineseEntityExtractor
from tests.contract import CONTRACT_ENTITIES

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
            for w in [
                "上门催收",
                "催收员上门",
                "招商银行信用卡",
                "工资到手",
                "月工资",
                "门口泼",
                "泼红",
                "说是警察",
                "打电话骂",
                "天天打电话",
                "爸妈说",
                "花都",
                "单位找",
                "老婆打",
                "村委会找",
                "通讯录里",
                "威胁我说",
            ]:
                jieba.add_word(w, 200000)
        elif variant == "split_words":
            # Words cut into pieces: 招商银行 -> 招商 | 银行.
            for w in [
                "招商银行",
                "中国银行",
                "交通银行",
                "信用卡",
                "紧急联系人",
                "通讯录",
                "油漆",
                "家里人",
                "七大姑八大姨",
                "村委会",
                "居委会",
                "冒充",
                "警察",
                "爸妈",
                "单位",
                "工作证",
                "泼油漆",
                "跟踪",
                "老婆",
                "邻居",
                "同事",
                "家门口",
            ]:
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
        return train_and_load(tmp_path_factory.mktemp("model_storage"), {"patterns_path": str(PATTERNS)})


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
    (
        "欠招行五万，工资四千，房租一千五，逾期三个月",
        {"bank": "招商银行", "amount": 50000, "monthly_income": 4000, "monthly_expense": 1500, "overdue_duration": 90},
    ),
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


# --------------------------------------------------------------------------- #
# Long messages: whole stories with several lenders, numbers and negations.
# (text, entities that must be found, the exact derived_facts)

LONG_MESSAGES = [
    # delivery riders
    (
        "我是跑外卖的，每天送十个小时，一个月到手也就六千五，房租一千二，去年电动车被偷又借了美团借钱五千，"
        "加上花呗三千多，逾期快两个月了，催收打到我们站长那里",
        {
            "monthly_income": 6500,
            "monthly_expense": 1200,
            "bank": ["美团借钱", "花呗"],
            "amount": [5000, 3000],
            "overdue_duration": 60,
        },
        {
            "loan_type": "online_lending",
            "banks": ["美团借钱", "花呗"],
            "amount_parts": [5000, 3000],
            "amount_total": 8000,
        },
    ),
    (
        "我是外卖骑手，平时一个月挣五千左右，房租加吃饭要两千，借了安逸花一万二和分期乐六千，分期乐已经逾期二十天了，"
        "他们说要联系我紧急联系人",
        {
            "monthly_income": 5000,
            "monthly_expense": 2000,
            "bank": ["马上消费金融", "分期乐"],
            "amount": [12000, 6000],
            "overdue_duration": 20,
            "relation": "紧急联系人",
        },
        {
            "loan_type": "online_lending",
            "banks": ["马上消费金融", "分期乐"],
            "amount_parts": [12000, 6000],
            "amount_total": 18000,
        },
    ),
    (
        "骑手一个，每个月收入七千多，房租一千，生活费一千五，欠了美团月付五千，抖音月付三千，京东金条一万二，已经逾期40天",
        {
            "monthly_income": 7000,
            "monthly_expense": [1000, 1500],
            "amount": [5000, 3000, 12000],
            "overdue_duration": 40,
        },
        {
            "loan_type": "online_lending",
            "banks": ["美团月付", "抖音月付", "京东金条"],
            "amount_parts": [5000, 3000, 12000],
            "amount_total": 20000,
        },
    ),
    # migrant workers
    (
        "我在外面打工，工地上一个月七八千，但是老板已经三个月没发工资了，信用卡欠了广发两万、中行一万，现在逾期四十多天",
        {"bank": ["广发银行", "中国银行"], "amount": [20000, 10000], "overdue_duration": 40},
        {
            "loan_type": "credit_card",
            "banks": ["广发银行", "中国银行"],
            "amount_parts": [20000, 10000],
            "amount_total": 30000,
        },
    ),
    (
        "农民工，在深圳电子厂上班，月薪四千二，去年老家盖房子找老乡借了三万，又在拍拍贷借了八千，拍拍贷逾期两个月，天天打我电话",
        {
            "monthly_income": 4200,
            "amount": [30000, 8000],
            "bank": "拍拍贷",
            "overdue_duration": 60,
            "behavior": "频繁来电",
        },
        {
            "loan_type": "private_loan",
            "loan_types": ["private_loan", "online_lending"],
            "amount_parts": [30000, 8000],
            "amount_total": 38000,
        },
    ),
    (
        "在工厂做了五年，去年厂子倒闭了，信用卡欠了建行四万多，逾期八个月，催收说要去我老家村里",
        {"bank": "建设银行", "amount": 40000, "overdue_duration": 240, "relation": "村委会"},
        {"loan_type": "credit_card"},
    ),
    # retirees and guarantors
    (
        "退休教师，每月退休金四千五，给儿子做担保，儿子在农业银行贷了二十万做生意，现在人跑了，银行起诉我这个担保人",
        {"monthly_income": 4500, "relation": "子女", "bank": "农业银行", "amount": 200000},
        {"loan_type": "bank_loan"},
    ),
    (
        "我今年六十八了，退休金两千八，女儿用我的身份证办了网贷，欠了三四万，催收天天打电话骂我，我根本不知道这事",
        {"monthly_income": 2800, "relation": "子女", "behavior": ["频繁来电", "辱骂"]},
        {"loan_type": "online_lending"},
    ),
    (
        "老伴走了以后我一个人住，养老金一千九，侄子找我担保在信用社贷了五万，逾期一年了，信用社的人天天上门",
        {
            "monthly_income": 1900,
            "relation": "亲戚",
            "bank": "农村信用社",
            "amount": 50000,
            "overdue_duration": 365,
            "behavior": "上门",
        },
        {"loan_type": "bank_loan"},
    ),
    # students
    (
        "我是大三学生，没有收入，生活费家里每个月给一千五，在借呗借了五千，京东金条三千，还有个小贷平台两千，现在都逾期了，"
        "他们说要告诉我辅导员和室友",
        {"monthly_income": 0, "bank": ["借呗", "京东金条"], "amount": [5000, 3000, 2000], "relation": "朋友"},
        {
            "loan_type": "online_lending",
            "banks": ["借呗", "京东金条"],
            "amount_parts": [5000, 3000, 2000],
            "amount_total": 10000,
        },
    ),
    (
        "大学生，被同学拉去做校园贷，借了两千到手一千六，一周后要还两千五，还不上就又借新的还旧的，现在滚到两万多了",
        {"amount": [2000, 2500, 20000]},
        {"loan_type": "online_lending"},
    ),
    (
        "学生党，花呗欠了四千，没敢告诉爸妈，催收说再不还就打给我爸妈",
        {"bank": "花呗", "amount": 4000, "relation": "父母"},
        {"loan_type": "online_lending"},
    ),
    (
        "研究生在读，在好几个借钱APP上借了钱，有钱花一万，360借条八千，加起来一万八，现在逾期一个多月",
        {"bank": ["度小满", "360借条"], "amount": [10000, 8000, 18000], "overdue_duration": 30},
        {
            "loan_type": "online_lending",
            "banks": ["度小满", "360借条"],
            "amount_parts": [10000, 8000],
            "amount_total": 18000,
        },
    ),
    # shop owners with several cards
    (
        "开了一家服装店，生意不好，手上有六张信用卡，招行五万，建行三万八，交行两万，兴业四万，光大一万五，民生两万二，"
        "每个月光最低还款就要一万多",
        {
            "bank": ["招商银行", "建设银行", "交通银行", "兴业银行", "光大银行", "民生银行"],
            "amount": [50000, 38000, 20000, 40000, 15000, 22000],
        },
        {
            "loan_type": "credit_card",
            "banks": ["招商银行", "建设银行", "交通银行", "兴业银行", "光大银行", "民生银行"],
            "amount_parts": [50000, 38000, 20000, 40000, 15000, 22000],
            "amount_total": 185000,
        },
    ),
    (
        "我自己开个小饭馆，疫情关了一年，欠了网商贷十五万，还有农商行的经营贷三十万，加起来四十五万，现在逾期三个月了",
        {"bank": ["网商贷", "农商银行"], "amount": [150000, 300000, 450000], "overdue_duration": 90},
        {
            "loan_type": "online_lending",
            "loan_types": ["online_lending", "bank_loan"],
            "banks": ["网商贷", "农商银行"],
            "amount_parts": [150000, 300000],
            "amount_total": 450000,
        },
    ),
    (
        "做小生意的，信用卡总共欠了二十多万，其中浦发八万，中信七万，平安六万，还有网贷五万没算进去",
        {"bank": ["浦发银行", "中信银行", "平安银行"], "amount": [200000, 80000, 70000, 60000, 50000]},
        {
            "loan_type": "credit_card",
            "loan_types": ["credit_card", "online_lending"],
            "banks": ["浦发银行", "中信银行", "平安银行"],
            "amount_parts": [80000, 70000, 60000, 50000],
            "amount_total": 200000,
        },
    ),
    (
        "开五金店的，去年在台州银行贷了十万，还有泰隆银行的五万，都逾期了",
        {"bank": ["台州银行", "泰隆银行"], "amount": [100000, 50000]},
        {
            "loan_type": "bank_loan",
            "banks": ["台州银行", "泰隆银行"],
            "amount_parts": [100000, 50000],
            "amount_total": 150000,
        },
    ),
    # Taiwanese and Hong Kong people, and debts outside the mainland
    (
        "我是台湾人，在东莞台资厂做事，月薪两万，在大陆办了工行和招行的信用卡，欠了大概十万，逾期一个月了",
        {"monthly_income": 20000, "bank": ["工商银行", "招商银行"], "amount": 100000, "overdue_duration": 30},
        {"loan_type": "credit_card", "banks": ["工商银行", "招商银行"]},
    ),
    ("我是台湾人在大陆工作，欠招行信用卡", {"bank": "招商银行"}, {"loan_type": "credit_card"}),
    (
        "我是台湾人，之前在台湾欠了中信和玉山的卡债一百多万台币，现在在昆山工作，台湾那边的催收打电话到我公司",
        {"bank": ["中国信托银行", "玉山银行"], "amount": 1000000, "relation": "单位"},
        {"loan_type": "credit_card", "jurisdiction": "taiwan", "banks": ["中国信托银行", "玉山银行"]},
    ),
    (
        "台干，在台湾有国泰世华的信贷没还，想问在大陆工作会不会被追到，前置协商要怎么申请",
        {"bank": "国泰世华银行"},
        {"loan_type": "bank_loan", "jurisdiction": "taiwan"},
    ),
    (
        "我是台湾人，在苏州上班，大陆这边欠了招行两万，台湾那边还有台新的卡债三十万台币",
        {"bank": ["招商银行", "台新银行"], "amount": [20000, 300000]},
        # different currencies: no total
        {
            "loan_type": "credit_card",
            "jurisdiction": "taiwan",
            "jurisdictions": ["mainland", "taiwan"],
            "banks": ["招商银行", "台新银行"],
        },
    ),
    ("欠中信的卡，想走前置协商", {"bank": "中国信托银行"}, {"loan_type": "credit_card", "jurisdiction": "taiwan"}),
    ("台湾人，在大陆欠了中信五万，想问前置协商有没有用", {"bank": "中信银行", "amount": 50000}, {}),
    ("招行的卡能不能走更生", {"bank": "招商银行"}, {"loan_type": "credit_card"}),
    (
        "我是香港人，在深圳工作，欠了建设银行信用卡五万，逾期三个月了",
        {"bank": "建设银行", "amount": 50000, "overdue_duration": 90},
        {"loan_type": "credit_card"},
    ),
    (
        "在香港欠了大新银行和安信的卡数大概二十万港币，现在回了内地，收数公司打给我家人",
        {"bank": "大新银行", "amount": 200000, "relation": "亲戚"},
        {"loan_type": "credit_card", "jurisdiction": "hong_kong"},
    ),
    (
        "在香港欠了财务公司十万，收数公司天天打电话",
        {"amount": 100000, "behavior": "频繁来电"},
        {"jurisdiction": "hong_kong"},
    ),
    (
        "我在汇丰中国办的信用卡，欠了两万，逾期三个月",
        {"bank": "汇丰银行", "amount": 20000, "overdue_duration": 90},
        {"loan_type": "credit_card"},
    ),
    # spouses
    (
        "老公背着我借了网贷，现在催收打给我，我们夫妻共同财产会不会被执行，他欠了大概八万",
        {"relation": "配偶", "amount": 80000},
        {"loan_type": "online_lending"},
    ),
    (
        "我老婆在你我贷和宜人贷借了六万，逾期半年多，现在催收打给我和我妈",
        {"relation": ["配偶", "父母"], "bank": ["你我贷", "宜人贷"], "amount": 60000, "overdue_duration": 180},
        {"loan_type": "online_lending", "banks": ["你我贷", "宜人贷"]},
    ),
    (
        "我丈夫去世了，他生前欠了招行三万多信用卡，现在催收让我还，我没有签过任何东西",
        {"relation": "配偶", "bank": "招商银行", "amount": 30000},
        {"loan_type": "credit_card"},
    ),
    (
        "前夫离婚前借的高利贷，现在放贷的人上门找我要钱，说夫妻共同债务",
        {"relation": "配偶", "behavior": "上门"},
        {"loan_type": "illegal_loan"},
    ),
    (
        "我老公瞒着我在招行和浦发各办了一张卡，招行欠四万，浦发欠三万五，现在催收天天打给我和他爸妈",
        {"relation": ["配偶", "父母"], "bank": ["招商银行", "浦发银行"], "amount": [40000, 35000]},
        {
            "loan_type": "credit_card",
            "banks": ["招商银行", "浦发银行"],
            "amount_parts": [40000, 35000],
            "amount_total": 75000,
        },
    ),
    # illegal lending
    (
        "被714高炮坑了，借了一千五到手只有一千，七天后要还两千，不还就爆通讯录",
        {"amount": [1500, 2000], "relation": "通讯录", "behavior": "爆通讯录"},
        {"loan_type": "illegal_loan"},
    ),
    (
        "我从来没借过高利贷，就是信用卡和花呗逾期了",
        {"bank": "花呗"},
        {"loan_type": "credit_card", "loan_types": ["credit_card", "online_lending"]},
    ),
    (
        "我欠的不是网贷，是银行的消费贷十万，还有信用卡三万",
        {"amount": [100000, 30000]},
        {
            "loan_type": "bank_loan",
            "loan_types": ["bank_loan", "credit_card"],
            "amount_parts": [100000, 30000],
            "amount_total": 130000,
        },
    ),
    # money: totals, repayments, balances, limits, income and spending
    (
        "每月工资六千，房租一千五，欠了三张卡一共十二万",
        {"monthly_income": 6000, "monthly_expense": 1500, "amount": 120000},
        {"loan_type": "credit_card"},
    ),
    (
        "招行3万，浦发2万5，花呗八千",
        {"bank": ["招商银行", "浦发银行", "花呗"], "amount": [30000, 25000, 8000]},
        {
            "loan_type": "online_lending",
            "banks": ["招商银行", "浦发银行", "花呗"],
            "amount_parts": [30000, 25000, 8000],
            "amount_total": 63000,
        },
    ),
    (
        "欠了工行信用卡三万，额度五万，上个月还了五千，现在还欠两万五",
        {"bank": "工商银行", "amount": [30000, 25000]},
        {"loan_type": "credit_card"},
    ),
    (
        "花呗八千、借呗一万五、微粒贷两万，一共四万三，都逾期了",
        {"bank": ["花呗", "借呗", "微粒贷"], "amount": [8000, 15000, 20000, 43000]},
        {
            "loan_type": "online_lending",
            "banks": ["花呗", "借呗", "微粒贷"],
            "amount_parts": [8000, 15000, 20000],
            "amount_total": 43000,
        },
    ),
    (
        "我有两张卡，一张欠三万，另一张欠两万，工资三千五，房贷每月两千",
        {"amount": [30000, 20000], "monthly_income": 3500, "monthly_expense": 2000},
        {"loan_type": "credit_card", "amount_parts": [30000, 20000], "amount_total": 50000},
    ),
    (
        "每个月房贷四千，车贷两千，工资一万，信用卡欠了六万，逾期一个月了",
        {"monthly_expense": [4000, 2000], "monthly_income": 10000, "amount": 60000, "overdue_duration": 30},
        {"loan_type": "credit_card"},
    ),
    (
        "信用卡一共欠了八万，网贷一共三万",
        {"amount": [80000, 30000]},
        {
            "loan_type": "credit_card",
            "loan_types": ["credit_card", "online_lending"],
            "amount_parts": [80000, 30000],
            "amount_total": 110000,
        },
    ),
    (
        "一共欠了十二万，其中招行五万，浦发七万",
        {"amount": [120000, 50000, 70000]},
        {"banks": ["招商银行", "浦发银行"], "amount_parts": [50000, 70000], "amount_total": 120000},
    ),
    (
        "欠了五万，招行三万浦发两万",
        {"amount": [50000, 30000, 20000]},
        {"banks": ["招商银行", "浦发银行"], "amount_parts": [30000, 20000], "amount_total": 50000},
    ),
    ("我没有欠网贷，只有房贷，每个月还三千，工资八千", {"monthly_income": 8000}, {"loan_type": "bank_loan"}),
    (
        "借了朋友五万，借条上写的一年还清，人家现在天天来催",
        {"relation": "朋友", "amount": 50000},
        {"loan_type": "private_loan"},
    ),
    # negations in stories
    ("他们没有上门，也没有骂人，但是每天从早到晚打几十个电话", {"behavior": "频繁来电"}, {}),
    ("催收没有打给我父母，但是打给了我的同事和领导，还说要去我单位", {"relation": ["同事", "领导", "单位"]}, {}),
]

# (text, entity, value) that must NOT come out of the long messages above
LONG_ABSENT = [
    (
        "我在外面打工，工地上一个月七八千，但是老板已经三个月没发工资了，信用卡欠了广发两万、中行一万，现在逾期四十多天",
        "overdue_duration",
        90,
    ),
    (
        "我今年六十八了，退休金两千八，女儿用我的身份证办了网贷，欠了三四万，催收天天打电话骂我，我根本不知道这事",
        "amount",
        68,
    ),
    (
        "大学生，被同学拉去做校园贷，借了两千到手一千六，一周后要还两千五，还不上就又借新的还旧的，现在滚到两万多了",
        "monthly_income",
        1600,
    ),
    (
        "我自己开个小饭馆，疫情关了一年，欠了网商贷十五万，还有农商行的经营贷三十万，加起来四十五万，现在逾期三个月了",
        "overdue_duration",
        365,
    ),
    (
        "在工厂做了五年，去年厂子倒闭了，信用卡欠了建行四万多，逾期八个月，催收说要去我老家村里",
        "overdue_duration",
        1825,
    ),
    (
        "我是台湾人，之前在台湾欠了中信和玉山的卡债一百多万台币，现在在昆山工作，台湾那边的催收打电话到我公司",
        "bank",
        "中信银行",
    ),
    ("在香港欠了财务公司十万，收数公司天天打电话", "relation", "单位"),
    ("被714高炮坑了，借了一千五到手只有一千，七天后要还两千，不还就爆通讯录", "amount", 714),
    ("被714高炮坑了，借了一千五到手只有一千，七天后要还两千，不还就爆通讯录", "overdue_duration", 7),
    ("欠了工行信用卡三万，额度五万，上个月还了五千，现在还欠两万五", "amount", 50000),
    ("欠了工行信用卡三万，额度五万，上个月还了五千，现在还欠两万五", "amount", 5000),
    ("我没有欠网贷，只有房贷，每个月还三千，工资八千", "amount", 3000),
    ("借了朋友五万，借条上写的一年还清，人家现在天天来催", "overdue_duration", 365),
    ("他们没有上门，也没有骂人，但是每天从早到晚打几十个电话", "behavior", "上门"),
    ("他们没有上门，也没有骂人，但是每天从早到晚打几十个电话", "behavior", "辱骂"),
    ("催收没有打给我父母，但是打给了我的同事和领导，还说要去我单位", "relation", "父母"),
    ("他们没有动手，就是天天打电话", "behavior", "殴打"),
    ("他们没有再上门了，就是发短信", "behavior", "上门"),
    ("还没告诉我老婆，怕她担心", "relation", "配偶"),
    ("他们没有真的动手，但是天天打电话", "behavior", "殴打"),
]


@pytest.mark.parametrize(
    "text, entity, value",
    [
        ("不过上门了，还骂我", "behavior", "上门"),  # 不过 is "but", not a negation
        ("不要告诉我父母", "relation", "父母"),  # a plea about a threat: the relation stays
        ("他们找不到我就打给我爸妈", "relation", "父母"),
        ("没有打给我老婆，打给了我同事", "relation", "同事"),
    ],
)
def test_not_negated(extractor, text, entity, value):
    assert value in values(run(extractor, text), entity)


COURT_FACTS = ("court_stage", "can_pay")  # tested on their own below


def analyse(component: ChineseEntityExtractor, text: str, court: bool = False):
    message = Message(data={"text": text})
    component.process([message])
    derived = message.get("derived_facts")
    if not court and derived is not None:
        derived = {k: v for k, v in derived.items() if k not in COURT_FACTS}
    return message.get("entities") or [], derived


@pytest.mark.parametrize(
    "text, stage, ability",
    [
        ("判决书下来了，我没钱还", "judgment", "no"),
        ("被列入失信名单了怎么办", "judgment", None),
        ("工资卡被冻结了，说是法院强制执行", "judgment", None),
        ("收到法院传票了，下个月开庭", "sued", None),
        ("银行说要起诉我", None, None),
        ("银行还没起诉我", None, None),
        ("我有能力还但是不想还，法院判了", "judgment", "yes"),
        ("失业了，信用卡还不上", None, "no"),
    ],
)
def test_court_stage_and_ability_to_pay(extractor, text, stage, ability):
    _, derived = analyse(extractor, text, court=True)
    assert derived.get("court_stage") == stage and derived.get("can_pay") == ability


@pytest.mark.parametrize("text, expected, facts", LONG_MESSAGES, ids=[m[0][:24] for m in LONG_MESSAGES])
def test_long_messages(extractor, text, expected, facts):
    entities, derived = analyse(extractor, text)
    _check(entities, expected)
    assert derived == facts
    assert {e["entity"] for e in entities} <= CONTRACT_ENTITIES


@pytest.mark.parametrize("text, entity, value", LONG_ABSENT, ids=[f"{a[0][:16]}-{a[2]}" for a in LONG_ABSENT])
def test_long_messages_absent(extractor, text, entity, value):
    assert value not in values(run(extractor, text), entity)


def test_long_messages_are_long():
    assert len(LONG_MESSAGES) >= 40
    assert sum(len(m[0]) >= 30 for m in LONG_MESSAGES) >= 30


def test_several_banks_are_all_kept(extractor):
    text = "工行、建行、农行、中行、交行、招行、台州银行和汇丰都有欠款"
    want = ["工商银行", "建设银行", "农业银行", "中国银行", "交通银行", "招商银行", "台州银行", "汇丰银行"]
    assert values(run(extractor, text), "bank") == want
    assert analyse(extractor, text)[1]["banks"] == want


@pytest.mark.parametrize(
    "text, bank",
    [
        ("台州银行的人打电话给我老公", "台州银行"),
        ("汇丰的信用卡欠了一万出头", "汇丰银行"),
        ("兴业消费金融的催收", "兴业消费金融"),
        ("招联消金逾期", "招联金融"),
        ("捷信的贷款", "捷信"),
        ("度小满逾期了", "度小满"),
        ("平安普惠上门", "平安普惠"),
        ("宜信的借款", "宜信"),
        ("中邮钱包欠了五千", "中邮消费金融"),
        ("泰隆银行的经营贷", "泰隆银行"),
        ("微信分付逾期", "微信分付"),
        ("花贝欠了两千", "花呗"),
        ("微粒袋逾期", "微粒贷"),
        ("国开行的助学贷款", "国家开发银行"),
        ("恒生银行信用卡", "恒生银行"),
        ("中银香港的卡", "中银香港"),
        ("玉山的信用卡", "玉山银行"),
        ("彰银的信贷", "彰化银行"),
        ("东莞银行的信用卡", "东莞银行"),
    ],
)
def test_more_lenders(extractor, text, bank):
    assert bank in values(run(extractor, text), "bank")


@pytest.mark.parametrize(
    "text",
    [
        "我的第一银行卡是工资卡",
        "恒生指数又跌了",
        "我已经跟银行协商好分期了",
        "过来分期办理",
        "逾期会影响信贷报告吗",
        "自力更生吧",
        "平台新规出来了",
        "这个平台是正规的吗",
        "我们两口子都在上海",
        "欠个人情",
        "透支身体不值得",
        "建设行业不景气",
        "去工商行政管理局",
        "我是台湾人",
        "收数据要多久",
    ],
)
def test_no_false_lenders_or_facts(extractor, text):
    entities, facts = analyse(extractor, text)
    assert values(entities, "bank") == []
    assert "jurisdiction" not in facts
    assert facts.get("loan_type") in (None,)


@pytest.mark.parametrize(
    "text, loan_type",
    [
        ("信用卡逾期了", "credit_card"),
        ("几张卡都刷爆了", "credit_card"),
        ("招行的卡", "credit_card"),
        ("广发卡", "credit_card"),
        ("装修贷还不上", "bank_loan"),
        ("在建行贷了款", "bank_loan"),
        ("银行的消费贷", "bank_loan"),
        ("经营贷逾期", "bank_loan"),
        ("网贷逾期", "online_lending"),
        ("花呗", "online_lending"),
        ("借钱APP太多了", "online_lending"),
        ("撸口子撸多了", "online_lending"),
        ("玖富借条逾期", "online_lending"),
        ("360借条", "online_lending"),
        ("民间借贷纠纷", "private_loan"),
        ("打了借条", "private_loan"),
        ("找朋友借的钱", "private_loan"),
        ("欠亲戚五万", "private_loan"),
        ("高利贷", "illegal_loan"),
        ("套路贷", "illegal_loan"),
        ("砍头息太高", "illegal_loan"),
        ("714高炮", "illegal_loan"),
        ("裸贷", "illegal_loan"),
        ("利息超过36%", "illegal_loan"),
    ],
)
def test_loan_type(extractor, text, loan_type):
    assert analyse(extractor, text)[1].get("loan_type") == loan_type


@pytest.mark.parametrize(
    "text",
    ["我没借过网贷", "这不是高利贷", "没有信用卡", "从来不碰网贷", "没有借过花呗"],
)
def test_negated_loan_type(extractor, text):
    assert "loan_type" not in analyse(extractor, text)[1]


@pytest.mark.parametrize(
    "text, place",
    [
        ("在台湾欠了银行的钱", "taiwan"),
        ("台新银行的卡债", "taiwan"),
        ("国泰世华的信贷", "taiwan"),
        ("想走前置协商", "taiwan"),
        ("消债条例的更生程序", "taiwan"),
        ("联征中心查到我有呆账", "taiwan"),
        ("欠了五万台币", "taiwan"),
        ("香港的信用卡欠了钱", "hong_kong"),
        ("收数公司打电话来", "hong_kong"),
        ("收到入禀状", "hong_kong"),
        ("申请个人自愿安排", "hong_kong"),
        ("汇丰的卡", "hong_kong"),
        ("欠了八万港币", "hong_kong"),
        ("恒生银行信用卡", "hong_kong"),
    ],
)
def test_jurisdiction(extractor, text, place):
    assert analyse(extractor, text)[1].get("jurisdiction") == place


@pytest.mark.parametrize(
    "text",
    [
        "我是台湾人，欠了招行信用卡",
        "我在香港工作，欠了建行三万",
        "香港人在深圳欠了花呗",
        "汇丰中国的信用卡",
        "招行的卡能走前置协商吗",
        "广东人，收数公司打电话给我，欠的是广发",
        "在大陆欠了中信的卡",
        "台湾人",
        "去台湾旅游",
        "中信银行信用卡逾期",
        "我在台湾的时候没有欠债，来大陆工作才办了卡，现在收到律师函说要入禀法院",
        "在台湾逾期会上联征，大陆这边的征信也是这样吗",
        "跟银行协商好分期了",
    ],
)
def test_mainland_debt_has_no_jurisdiction(extractor, text):
    assert "jurisdiction" not in analyse(extractor, text)[1]


def test_derived_facts_are_set_on_every_message(extractor):
    entities, facts = analyse(extractor, "你好")
    assert entities == [] and facts == {}
    message = Message(data={"text": "招行三万，花呗两万"})
    extractor.process([message])
    assert message.get("derived_facts")["amount_total"] == 50000
    assert "derived_facts" in message.as_dict(only_output_properties=True)


def test_derived_facts_of_other_components_are_kept(extractor):
    message = Message(data={"text": "借呗欠了两万，法院已经判了"})
    message.set("derived_facts", {"court_stage": "judgment", "loan_type": "credit_card"})
    extractor.process([message])
    assert message.get("derived_facts") == {"court_stage": "judgment", "loan_type": "online_lending"}


def test_derived_labels_never_become_entities(extractor):
    texts = [s[0] for s in SENTENCES] + [m[0] for m in LONG_MESSAGES] + NO_ENTITIES
    for text in texts:
        assert {e["entity"] for e in run(extractor, text)} <= CONTRACT_ENTITIES, text


RULE_SENTENCES = [s for s in SENTENCES if set(s[1]) & {"bank", "relation", "behavior"}]


def test_the_tokenizers_words_give_the_same_result(extractor, tmp_path):
    """In the pipeline the Rasa tokenizer's jieba words are reused instead of segmenting again."""
    from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer

    tokenizer = JiebaTokenizer.create(
        JiebaTokenizer.get_default_config(), LocalModelStorage(tmp_path), Resource("jieba"), _context()
    )
    texts = [t for t, _ in SENTENCES] + [m[0] for m in LONG_MESSAGES] + NO_ENTITIES + ["招商 银行  欠 5万 ", "  催收 "]
    differ = []
    for text in texts:
        alone = Message(data={"text": text})
        tokenized = tokenizer.process([Message(data={"text": text})])[0]
        assert tokenized.get("text_tokens")
        extractor.process([alone, tokenized])
        if (alone.get("entities"), alone.get("derived_facts")) != (
            tokenized.get("entities"),
            tokenized.get("derived_facts"),
        ):
            differ.append(text)
    assert not differ, differ


def test_words_that_do_not_spell_the_text_are_ignored(extractor):
    matcher = extractor._matcher
    text = "招商银行的催收上门了"
    assert matcher.extract(text, ["别的", "文字"]) == matcher.extract(text) != []
    assert matcher.extract(text, list(jieba.cut(text))) == matcher.extract(text)


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
def test_long_messages_independent_of_jieba_dictionary(extractor, variant):
    """The long messages' entities and derived facts do not depend on jieba's cuts."""
    failures = []
    with jieba_state(variant):
        for text, expected, facts in LONG_MESSAGES:
            entities, derived = analyse(extractor, text)
            try:
                _check(entities, expected)
                assert derived == facts, derived
            except AssertionError as e:
                failures.append(f"{text}: {e}")
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
        {
            "entity": "bank",
            "value": "招商银行",
            "start": 3,
            "end": 5,
            "confidence": 1.0,
            "extractor": "ChineseEntityExtractor",
        },
        {
            "entity": "amount",
            "value": 43000,
            "start": 5,
            "end": 8,
            "confidence": 1.0,
            "extractor": "ChineseEntityExtractor",
        },
    ]
    assert [text[e["start"] : e["end"]] for e in entities] == ["招行", "四万三"]
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
    [
        "",
        " ",
        "\x00\x01\x1b[31m",
        "😀" * 50,
        "欠了" + "9" * 5000,
        "招行四万三" * 2000,
        "一" * 10_000,
        "\u202e招行\u200b",
        "欠了\ud800两万",
        "a" * 10_000,
        "\n\n\t",
    ],
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
        fh.write(json.dumps({"label": "bank", "pattern": "测试银行", "id": "测试银行"}, ensure_ascii=False) + "\n")
    assert ChineseEntityExtractor.fingerprint_addon(config) != before
    assert calculate_fingerprint_key(ChineseEntityExtractor, config, {}) != key_before

    # relative paths are resolved from the working directory
    monkeypatch.chdir(tmp_path)
    assert ChineseEntityExtractor.fingerprint_addon(
        {"patterns_path": "patterns"}
    ) == ChineseEntityExtractor.fingerprint_addon(config)


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
        # every bank the KB has a hotline for (so an extracted bank finds its number), and common lenders
        "bank": {bank.name for bank in load_kb().banks}
        | {"花呗", "借呗", "拍拍贷", "京东白条", "微粒贷", "美团月付", "招联金融", "马上消费金融", "360借条", "分期乐"},
        "relation": set(RELATIONS),
        "behavior": set(BEHAVIORS),
    }
    for label, ids in canonical.items():
        found = {r["id"] for r in rows if r["label"] == label}
        assert ids <= found, ids - found
        if label != "bank":  # lenders beyond the list are allowed for banks
            assert found - {entity_patterns.NONE_ID} == ids


def test_derived_pattern_files():
    rows = entity_patterns.load_patterns(PATTERNS)
    ids = {}
    for name, label in [
        ("loan_type.jsonl", "loan_type"),
        ("jurisdiction.jsonl", "jurisdiction"),
        ("court_stage.jsonl", "court_stage"),
        ("can_pay.jsonl", "can_pay"),
    ]:
        for line in (PATTERNS / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert set(row) == {"label", "pattern", "id"} and row["label"] == label
            ids.setdefault(label, set()).add(row["id"])
    # the Rasa side keeps its own copy of the codes (addons may not import actions): both must agree
    assert entity_patterns.LOAN_TYPES == LOAN_TYPES
    assert {entity_patterns.MAINLAND, *entity_patterns.OUTSIDE_PLACES} == set(JURISDICTIONS)
    assert ids["loan_type"] == set(LOAN_TYPES) | {entity_patterns.NONE_ID}
    context = {f"{place}{entity_patterns.CONTEXT_SUFFIX}" for place in JURISDICTIONS}
    assert ids["jurisdiction"] == set(JURISDICTIONS) | context | {entity_patterns.NONE_ID}
    assert ids["court_stage"] == set(COURT_STAGES) and ids["can_pay"] == set(CAN_PAY)
    assert {r["label"] for r in rows} == {"bank", "relation", "behavior", *entity_patterns.DERIVED_LABELS}


def test_outside_banks_are_outside_under_every_name(extractor):
    """A Taiwan / Hong Kong bank's every name gives its jurisdiction, unless it is
    the bank's mainland branch (汇丰中国)."""
    rows = [
        r
        for r in entity_patterns.load_patterns(PATTERNS)
        if r["label"] == "bank" and isinstance(r["pattern"], str) and r["id"] != entity_patterns.NONE_ID
    ]
    places: Dict[str, set] = {}
    for row in rows:
        facts = analyse(extractor, row["pattern"])[1]
        places.setdefault(row["id"], set()).add(facts.get("jurisdiction"))
    outside = {bank: p for bank, p in places.items() if p - {None}}
    assert {"台新银行", "玉山银行", "汇丰银行", "中银香港"} <= set(outside)
    mixed = {bank: p for bank, p in outside.items() if len(p) > 1}
    assert mixed == {"汇丰银行": {"hong_kong", None}, "渣打银行": {"hong_kong", None}, "东亚银行": {"hong_kong", None}}


def test_every_lender_is_a_bank_or_lends_online(extractor):
    """Every lender either is a bank (银行/信用社 in its name) or implies online lending."""
    rows = [
        r
        for r in entity_patterns.load_patterns(PATTERNS)
        if r["label"] == "bank" and r["id"] != entity_patterns.NONE_ID
    ]
    for lender in {r["id"] for r in rows}:
        if not entity_patterns.is_bank(lender):
            assert analyse(extractor, f"欠了{lender}的钱")[1].get("loan_type") == "online_lending", lender


def test_bad_pattern_line_is_reported(tmp_path):
    (tmp_path / "bank.jsonl").write_text(
        '{"label": "bank", "pattern": "招行", "id": "招商银行"}\n{oops\n', encoding="utf-8"
    )
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
  - name: addons.components.entity_extractor.ChineseEntityExtractor
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
    parsed = _parse(first, "我欠了招行四万三，逾期三个月了")
    got = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert {("bank", "招商银行"), ("amount", 43000), ("overdue_duration", 90)} <= got
    assert all(e["extractor"] == "ChineseEntityExtractor" for e in parsed["entities"])
    assert parsed["derived_facts"] == {}
    parsed = _parse(first, "招行信用卡欠了三万，花呗八千")
    assert parsed["derived_facts"] == {
        "loan_type": "credit_card",
        "loan_types": ["credit_card", "online_lending"],
        "banks": ["招商银行", "花呗"],
        "amount_parts": [30000, 8000],
        "amount_total": 38000,
    }
    shutil.move(str(tmp_path / "patterns_moved"), str(project / "patterns"))

    # editing a patterns file changes the fingerprint: the cached ruler is not reused
    with (project / "patterns" / "bank.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"label": "bank", "pattern": "测试银行", "id": "测试银行"}, ensure_ascii=False) + "\n")
    second = train_nlu("config.yml", "nlu.yml", str(tmp_path / "models"), fixed_model_name="second")
    parsed = _parse(second, "测试银行的卡")
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("bank", "测试银行")]
