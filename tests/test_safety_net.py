"""The deterministic safety net: live danger (addons/components/emergency_net.py) and fake
police/court money demands (addons/components/fake_authority.py), with their lexicons in data/lexicons/.

Every case goes through the real normaliser first (Traditional -> Simplified, typos,
emoji set aside), as in the pipeline.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.components import emergency_net
from addons.components.emergency_net import ALERTS, EMERGENCY_INTENT, LIVE_DANGER, EmergencyDetector, EmergencyNet
from addons.components.fake_authority import FAKE_AUTHORITY, SCAM_INTENT, FakeAuthorityDetector, FakeAuthorityGuard
from addons.components.input_guard import InputGuard
from addons.components.text_normalizer import DROPPED_SYMBOLS, ChineseTextNormalizer
from chinese_text.lexicon_files import LexiconError
from chinese_text.normalise import TypoTable

ROOT = Path(__file__).resolve().parent.parent
LEXICONS = ROOT / "data" / "lexicons"
NORMALISER = ChineseTextNormalizer(max_chars=2000, typos=TypoTable.from_file(str(LEXICONS / "typos.yml")))
EMERGENCY = EmergencyDetector.from_file(str(LEXICONS / "emergency.yml"))
FAKE = FakeAuthorityDetector.from_file(str(LEXICONS / "fake_authority.yml"))


def _lines(block: str) -> List[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def _normalised(raw: str) -> Message:
    message = Message(data={TEXT: raw})
    NORMALISER.process([message])
    return message


def live_danger(raw: str) -> Optional[str]:
    message = _normalised(raw)
    return EMERGENCY.live_danger(message.get(TEXT), message.get(DROPPED_SYMBOLS) or "")


# Danger happening now (Simplified, Traditional, emoji, typos, pinyin).
LIVE = _lines(
    """
门口好多人，门已经畀佢哋撞烂咗
they are breaking my door 快帮我
他们breaking in了！
he is hitting me, help
催收的 won't leave 我家
楼下现在七八个人堵着
十个人在门口守着
他们把我摔在地上
他们现在就在门外
他们没砸门，但是一直在踹门
砸门了😭😭
他们冲进来了
他们冲进来了！！
催收的人现在在我家门口砸门
救命 催收正在踹门
他们要冲进来了
快闯进来了
他们要撬门了
门口的人在撬锁
现在有人在撬我家的锁
催收坐在我家不走
两个催收赖在屋里不肯走，已经三个小时了
他们在我家客厅坐着不走
催收就在我家里，赶也赶不走，快帮我
他们堵着我不让我走
三个人围住我不让我走
他们把我围在楼道里
他们抢我手机
他把我按在墙上
他推我
他们在打我
他们打我了怎么办啊
催收掐我脖子
他们把我锁在屋里了
我被他们关在房间里出不去
有人在砸门，我一个人在家，要不要报警？
他们正在踹我家的门，孩子吓哭了
他们已经进来了，在翻抽屉
讨债的硬闯进客厅了
他们踢门😱
门外的人说不开门就砸进来，我该怎么办
现在就在门口！说不开门就砸
门口的人喊再不开门就要把门撬了
昨天就来过，现在又来砸门了
上次他们砸过门，现在还在门口不走
他们昨天来过，今天又来了，堵在门口不让我出去
催收拿着刀在门外
他们拿着棍子在门口
催收拦着我不让我出门
我妈一个人在家，催收正在砸门
他们刚刚把我推倒了，人还没走
他们一下子冲进了客厅，我该怎么办
催收现在在我家门口不肯走，已经两个小时了
救命，他们在砸我家的门
有人在敲门说是催收的，一直在敲😨
催收员现在拉着我不让走
他们在门口踢门
他们动手了
他们要动手了
快来人啊，他们在打人
他们把门踹开了
门被他们踹坏了
他们把我堵在电梯口
他们不让我关门
有个男的抓着我的手不放
他们把我手机抢走了
催收一直在拍门，我好害怕
门外有好几个人，一直在踹门
现在门口有三个人在砸门
他们在撞门！！
催收在撬门，我该怎么办
他们翻墙进来了
他们从窗户爬进来了
他们强行进屋了
不让我报警，还抢我手机
有人闯进我家了
他们还在砸
催收赖着不走😭
他们已经在我家里坐了一下午了，就是不走
他们堵门不让我出去上班
他们踹门踹了半天了
催收在我家门口守着不让我出门
他扇了我一巴掌
他们把我老婆推倒了
我被催收困在车里
他们正在往我门上泼油漆
有人在我家门上贴东西，还在外面守着
門外有人在砸門，怎麼辦
他們闖進來了，趕都趕不走
救命，催收正在踢我家門
現在有人堵在門口不讓我出門
他們正在打人，怎麼辦
討債的人硬闖進客廳，我好怕
催收坐在我家客廳不肯離開
我被鎖在房間裡，他們在外面砸門
他們衝進來了😭
崔收在砸门
崔收坐在我家不走，jiuming
他们在咂门
help 他们在砸门
他們要衝進來了！
現在他們在踹門
他们正在砸门，我能报警吗
他们砸门了，违法吗
有人一直在踹我家门，我现在躲在卧室
他们围着我不让走，救救我
催收把我逼到墙角了
他们昨天来过一次，今天又来了，现在在门口砸门
我现在好害怕，他们在外面一直踹门
催收的人堵在我家门口，不让我出门
催收闯进我家了怎么办
有人在我家门口骂，还一直踢门
他们拽着我不放
老人在家，他们冲进去了
他们把门锁撬开了！
快报警！他们在砸门
我在卫生间躲着，他们在客厅不走
他们一直在敲门
催收的人站在我家门口不走
他们守在楼下不让我出门
他们又来了，在门口踹门
快来人 外面的人在用脚踹门
他们拿锤子在砸我家防盗门
救救我，有三个男的在我家不肯出去
催收的在我屋里赖着，说不给钱不走
我被几个人堵在小区门口了
他们现在把我围起来了
那个人一直扯着我的衣服不放
催收员把我手机抢了还推了我一把
他们撬开了我家的锁😱😱
门快被砸烂了
有人踹门！！！怎么办
我妈在家，他们在门外一直砸，我妈吓得发抖
他们硬挤进来了
催收冲进屋里了，孩子在哭
他们已经在客厅了，不肯走
现在几个人在我家门口堵着，我出不了门
讨债的把我按在地上
他打了我一拳
催收掐着我的胳膊不让我走
有个人在拽我家的门
他们不让我关门还往里挤
他们在撬我家的防盗门
外面有人在砸窗户
他們在門口踹門😭
現在有三個人賴在我家客廳不走
他們把我圍住了不讓我走
討債的現在正在砸我家的門
救命啊他們衝進來了
他们把我爸推倒在地上
门外有人一直在拍门骂人，我不敢出声
催收就坐在我家沙发上不走
他们说今天不还钱就不走，现在还坐在我家
人就在门口，踹了好几脚门
我被反锁在屋里了，他们在外面
踹门了踹门了
门要被他们踢开了
他们在门口闹，还踹门😰
有人往里闯
两个大汉站我家门口不走 救命
他们进来了！
崔收在我家不走怎么办啊
我被他们拉住了走不了
他们把我车堵了不让我走
他要打我
他们抢了我的手机还不还给我
催收在我家门口蹲着，我不敢出去
有个人拿着刀站在门口
我现在被关在他们车上
他们冲上来了
门锁被撬坏了，他们就在外面
他们一脚把门踹开了
老公不在家，外面有人在砸门
他们又在踹门了
催收抢我钱包
他們在我家不走，怎麼辦啊😭
他們把我推到牆上
外面的人要破门了
他们在外面拿脚踢我家大门，声音好大
催收硬要往屋里进，我拦不住
我爸被他们推到墙上了
三个人把我围在电梯里
他们不让我下车
门外的人在撬锁，快帮帮我
催收进了我家以后一直不走，已经五个小时了
他抓着我的头发
他们要砸门了怎么办
现在有人在我家门口拍门大喊还钱
讨债的把我家玻璃砸了😭
他們在踢門，我一個人在家好怕
外面那群人在撞门
他们在我家翻箱倒柜
快报警 他们在打我老公
我被堵在公司楼下了，他们不让我走
他们一直跟着我，现在在我家楼下守着
他们说不给钱就把我带走，现在拉着我
催收把我反锁在屋里了
有人撬我家门锁！
有两个人在我家门口一直踹门，我该怎么办
他们硬要冲进来，我用身体顶着门
催收在楼道里把我拦住了
他掐住我的脖子不放
他们把我家大门砸了个洞
救命，催收在我家里砸东西
门外的人在用东西撬门
他们几个人把我按在沙发上
他们闯进我家客厅，坐着不肯走
快来帮我，有人在踢我家门
他们把我妈的手机抢走了
我出不去，他们守在门口
讨债的把我围在公司门口不让我走
他们在拽我的胳膊
现在有人在撞我家的门😭
他们已经冲进院子了
有人翻墙进了我家院子
他們在我家門口堵著不讓我出去
他們正在撬鎖
催收把我堵在车库里
"""
)

# Conditional, future, legal questions, reported threats: they stay with their topic.
HYPOTHETICAL = _lines(
    """
如果催收砸门怎么办
万一他们冲进来怎么办
假如他们赖在我家不走，我能报警吗
要是他们硬闯进我家怎么办
如果催收的赖着不走，我能报警吗
催收会不会砸门
他们会不会冲进来
催收能不能把我堵在门口
催收可以抢我手机吗
催收有权把我关在屋里吗
催收砸门违法吗
催收堵门算不算违法
如果他们打我，我能还手吗
以后他们要是来砸门怎么办
万一催收上门推我怎么办
不开门他们会不会破门而入
不開門的話他們會不會撬門進來
他們不肯離開的話算不算私闖民宅
催收进了我家不肯走算什么行为
我要求他们离开他们不走，这违法吗
他们进来以后赖着不走，我能叫保安帮忙吗
遇到催收砸门应该怎么办
碰到催收堵门不让走怎么处理
催收一般会动手打人吗
我担心他们会冲进来
怕他们再来砸门
要是催收把我锁在屋里算非法拘禁吗
明天他们说要来砸门
催收说明天来我家砸门
催收打电话说要上门砸门
他们威胁说要打断我的腿
催收说再不还钱就来砸门
如果有人撬我家的锁，报警有用吗
万一他们抢我手机，我该怎么办
被催收堵在门口的时候能报警吗
催收把人围住属于限制人身自由吗
催收上门时能不能强行进屋
梦见催收冲进我家
电影里催收砸门的那种情况现实中会发生吗
听说有催收会砸门，是真的吗
如果他们坐在我家不走，我可以报警吗
假如催收动手了，我应该怎么办
要是催收踹门，我能正当防卫吗
催收以后会不会上门打人
萬一他們衝進來怎麼辦
如果催收砸門我可以報警嗎
要是他們賴著不走怎麼辦
催收可以把我堵在家裡嗎
催收会不会把我关起来
催收能进门不走吗
他们要是冲进来怎么办
他们说会冲进来
催收说要在门口堵我
如果催收现在冲进来怎么办
催收会堵门吗
催收要是堵我门口不让我出门呢
怎么防止催收上门堵门
砸门属于什么违法行为
打人犯法吗
假如催收踹门我能报警吗
要是催收赖在我家不走，我能叫物业吗
万一讨债的把我堵在门口怎么办
催收会不会把门撬了
他们会不会动手打人
催收能强行进我家门吗
催收有没有权利堵我家门
催收把门砸了要负什么责任
如果他们抢我手机算抢劫吗
以后催收要是冲进来我该怎么保护自己
催收上门推搡我犯法吗
要是他们把我关在屋里怎么办
假設他們闖進來，我可以正當防衛嗎
如果催收賴著不走怎麼辦
催收可以把我圍起來嗎
害怕哪天他们真的冲进来
催收威胁说下次来就砸门
他们在电话里说要来我家砸门
如果他们踹门我是不是可以报警
催收要是真的冲进来了怎么办
他们敢动手吗
要是被他们堵住了我该怎么脱身
催收会不会抢东西
假如他们坐在家里不走算违法吗
催收赖着不走的话物业能管吗
遇到催收闯进来应该第一时间做什么
如果催收在门口踹门报警有用吗
萬一催收砸門，我可以錄影嗎
催收是不是可以把我堵在家里
如果他们上门打人怎么处理
要是他们在门口不走，我能报警吗
万一被他们围住，应该怎么做
催收把门踹坏的话谁赔
听说有的催收会冲进家里，是真的吗
假如他们拿走我手机，我能告他们抢劫吗
如果催收堵着门不让我出去，算非法拘禁吗
催收强行进屋属于私闯民宅吗
要是他们砸我家门，物业会管吗
万一催收把门撬了我要怎么办
要是他们冲进来，我能不能打110
假如有人堵着我家门不让我出去，这违法吗
催收要是打人了我能还手吗
他们会不会趁我不在家撬锁
如果催收上门赖着不走该怎么赶
催收有权力扣我的手机吗
明天他们要是来砸门我就报警
如果他們砸門，我可以報警嗎
要是被催收围住了怎么办
"""
)

# Past reports and habitual harassment (live again only with 现在还在 / 又来了: see LIVE).
PAST = _lines(
    """
昨晚十一点多他们还在楼下喊我名字，这个时间可以催收吗
上周他们在楼下拦住我抢手机，现在还在微信上骂我，这算什么
昨天催收砸门了，我该怎么投诉
上次他们冲进来过，我该怎么取证
之前催收堵在我家门口不让我出门，我能告他们吗
上个月催收打了我一巴掌，能起诉吗
那天他们在我家坐了一下午不走
昨天他们推了我一下，我要怎么报警
前几天催收把我手机抢了
去年催收上门砸过门
以前被催收堵过门
他们上周闯进来过一次
他们之前砸坏了我家的门锁，可以要求赔偿吗
昨晚催收在门口踹门，吓死我了
前天催收把我妈推倒了，现在还在医院
当时他们把我围在楼道里
上次催收在我家赖着不走，我报警了
催收天天来砸门
他们经常堵在我家门口
催收老是来拍门
三天前催收砸了我家的窗户
昨天他們衝進我家，我要怎麼投訴
上次催收賴在我家不走，可以告他們嗎
之前催收打過我，能報警嗎
曾经有催收在我家门口泼油漆
那次他们把我锁在屋里两个小时
去年他们来砸过门，这次还会来吗
昨天催收来家里闹，砸了门，今天我该怎么办
他们前天砸门的事我报警了，现在怎么办
上次他们冲进来，现在我很害怕他们再来
他们刚才砸门了，现在已经走了
上礼拜催收在我家门口堵了我一个小时
前段时间催收冲进我家拿走了电视
去年冬天他们砸了我家的门，现在想起诉
以前催收打过我爸，能追究吗
昨天催收的把我推倒了，我有录像
上次催收赖在我家到半夜才走
两个月前被催收围堵过
前天晚上他们踹门，我录了音
那次他们闯进来，我报了警
之前有催收把我锁在屋里，算非法拘禁吗
昨天他們砸門了，可以告他們嗎
上個月催收衝進我家，我該怎麼投訴
上回他们把我家门踹坏了，谁来赔
之前催收在门口堵过我好几次
上周他们冲进来吓到了孩子，我想投诉
几天前被催收推了一下，手还疼
以前有个催收打了我一巴掌
昨晚他们在门口砸门砸到凌晨
去年催收来砸过我家门，最近又打电话了
上个星期他们把我妈推倒了，要怎么追责
之前他们赖在我家不走，后来报警才走
一个月前被催收堵在单位门口
前几天他们撬了我家的锁，我想起诉
昨天他们把我手机抢了，怎么要回来
上周催收把我家门砸坏了，找谁赔
昨天两个催收在我家坐了一整天才走
之前被催收推搡过，当时没报警
前几天他们冲进来把我吓坏了
上个月有个催收掐了我脖子，现在还有印子
去年被催收关在屋里过一次
"""
)

# Other topics, phone harassment, out of scope, junk, look-alike words.
NOT_EMERGENCY = _lines(
    """
一天被打了四十几通电话，有没有上限
被打了好几遍电话
hit me up when you can
the doorman is nice
我一个人坐在家里哭
我妈一个人待在家
我一个人在门口等快递
他现在在外面打工
我天天待在家里不出去
我手机摔到地上了
忘带钥匙了，找开锁师傅撬锁
催收天天打电话骂我怎么办
催收打我电话打了二十多次
他们一直打我电话
催收打我妈电话
催收把我拉进一个群里骂我
他们推我微信名片给别人
催收说要去我单位找我
上门催收一般是什么流程
催收上门了我该怎么应对
欠信用卡三万会坐牢吗
收到律师函是真的吗
今天天气怎么样
推荐一只股票
我家狗把门撞坏了
楼上装修一直在砸墙
我们在踢球
小孩在门口玩
你好
谢谢
好
38000
嗯嗯
😭😭
？？？
!!!
...
asdfgh
我欠了招商银行五万
我每个月工资六千
怎么跟银行协商分期还款
他们说要在我家门口泼油漆
催收说要爆我通讯录
游戏里有人一直打我
台风把窗户吹坏了
我想抢购演唱会门票
我老婆打我电话我没接
他们没有砸门，就是一直在打电话
催收没进来，在电话里骂人
他们不会冲进来吧
我现在在家，催收打电话来了
征信多久能恢复
他们冒充警察打电话
催收打电话说要打我
催收在微信上说要上门砸门
他打我电话
我坐在家里一直接到催收电话
我家人都在家里等我
协商流程还没走完
银行在协商阶段不走法律程序吗
他们说打我卡上
周围我都问了
我一到晚上就犯困我
自己动手丰衣足食
他们吵架我很烦
我拿着菜刀在厨房做饭
转人工，我要打人工客服
他们把我踢出群了
催收每天打十几个电话
他们打电话骂我全家
欠了网贷还不上怎么办
催收说要上门，我该准备什么
我想投诉催收公司
信用卡逾期会上征信吗
楼下在施工一直在砸东西
我儿子在踢足球
我家的门坏了怎么修
他推荐我去办分期
这个游戏里有人冲进来了
今天心情不好
我打了催收的电话他不接
他们拉我进了一个催收群
今天打了一天电话
我想了解一下停息挂账
他们冲业绩天天打电话
我要冲话费
银行的人推我办信用卡
你们能帮我吗
我打算明天去银行
催收天天骚扰我家人
他们天天打电话威胁我
催收发短信说要来砸门
我在家打游戏被队友骂了
地铁太挤了被人推了一下
楼下有人吵架
我要投诉催收的暴力行为
银行说要起诉我
催收电话一直打个不停
我想把门锁换了
他们在群里骂我
我要推迟还款
催收公司冲业绩
拉我进了一个群
"""
)


@pytest.mark.parametrize("raw", LIVE)
def test_live_danger_is_caught(raw):
    assert live_danger(raw), raw


@pytest.mark.parametrize("raw", HYPOTHETICAL + PAST)
def test_hypothetical_and_past_dangers_are_not_live(raw):
    assert live_danger(raw) is None


@pytest.mark.parametrize("raw", NOT_EMERGENCY + ["", "   ", "\x00\x01", "😭😭😱", "🆘"])
def test_other_messages_and_junk_are_not_live(raw):
    assert live_danger(raw) is None


def test_a_presence_at_the_door_needs_a_sign_that_it_is_now():
    # knocking is not violent: live with "now", a progressive verb, or a cry for help
    assert live_danger("有人敲门") is None
    assert live_danger("有人敲门😨") and live_danger("现在有人敲门") and live_danger("有人在敲门")
    # a violent act is live unless the message marks it as hypothetical, past or a question
    assert live_danger("他们踹门") and live_danger("他们踹门!")
    assert live_danger("他们踹门怎么办") is None  # a bare "…怎么办" is a general question
    assert live_danger("他们踹门怎么办啊") and live_danger("他们踹门了怎么办")


def test_the_classifier_can_be_sent_back_to_the_topic_only_for_explicit_cases():
    verdict = lambda raw: EMERGENCY.assess(_normalised(raw).get(TEXT)).verdict  # noqa: E731
    assert verdict("昨天他们砸门了") == emergency_net.NOT_NOW
    assert verdict("如果他们冲进来怎么办") == emergency_net.NOT_NOW
    assert verdict("催收说明天来砸门") == emergency_net.NOT_NOW
    assert verdict("他们刚才砸门了，现在已经走了") == emergency_net.NOT_NOW
    assert verdict("他们踹门怎么办") == emergency_net.UNSURE  # not explicit: the classifier decides
    assert verdict("催收天天打电话") is None
    assert verdict("他们在砸门") == emergency_net.LIVE


# --------------------------------------------------------------------------- #
# Fake authorities

FAKE_AUTHORITY_CASES = [
    ("接到电话说是公安局的，说我涉嫌洗钱，要把钱转到安全账户", {"冒充警察"}),
    ("自称派出所民警，让我配合调查把存款转到国家账户", {"冒充警察"}),
    ("有人说是法院执行局的，要我先交保证金才不起诉", {"冒充法院"}),
    ("对方说是法院执行庭的，要我把钱打到指定账户，是真的吗", {"冒充法院"}),
    ("检察院打电话说要资金核查，让我转账", {"冒充法院"}),
    ("经侦说我的卡涉案，要清查账户", {"冒充警察"}),
    ("网警说我涉嫌诈骗要交保证金", {"冒充警察"}),
    ("警察让我把罚款交到他个人账户", {"冒充警察"}),
    ("法官让我加他微信转账就可以撤诉", {"冒充法院"}),
    ("有人冒充检察官让我把钱汇到一个卡上", {"冒充法院"}),
    ("說是公安局的，要我把錢轉到安全帳戶", {"冒充警察"}),
    ("法院的人說要交保證金", {"冒充法院"}),
    ("催收说他们和派出所有合作，让我转账给他个人", {"冒充警察"}),
    ("说是公检法联合办案，要求资金清查", {"冒充警察", "冒充法院"}),
    ("真警察会让转账到安全账户吗", {"冒充警察"}),
    ("反诈中心打电话让我把验证码告诉他", {"冒充警察"}),
    ("法院说冻结了我的账户，交解冻费才能解冻", {"冒充法院"}),
    ("派出所让我去派出所交保证金", {"冒充警察"}),
    ("police 说要把钱转到安全账户", {"冒充警察"}),
    ("穿警服的人上门，让我扫他的收款码交罚金", {"冒充警察"}),
    ("一个自称法官的人说先交两千手续费就能撤案", {"冒充法院"}),
    ("说是网警，让我下载一个软件配合调查", {"冒充警察"}),
    ("来电显示是110，说我涉嫌洗钱", {"冒充警察"}),
    ("自称派出所民警说转五千就不立案", {"冒充警察"}),
    ("對方說是檢察院的，要我轉帳配合調查", {"冒充法院"}),
]
NOT_FAKE_AUTHORITY = [
    "催收让我转账到他私人账户，我要去派出所报案",
    "我想报警，催收要我转账到个人卡上",
    "警察会因为信用卡欠款上门抓人吗",
    "派出所打电话让我去一趟，是因为信用卡吗",
    "银行会起诉我吗",
    "收到法院传票怎么办",
    "催收说要把我的案子移交给户籍地派出所",
    "催收说案子转到法院了",
    "怎么跟银行协商分期还款",
    "催收让我把钱转到他微信",
    "我要去法院起诉催收公司，他们让我转账到私人账户",
    "我能向法院申请分期还款吗",
    "法院判决后我每个月还款",
    "交警让我去交罚款",
    "法院判决书下来了，让我把欠款还给银行",
    "法院判我承担诉讼费",
    "今天天气怎么样",
    "",
    "😭😭",
]


@pytest.mark.parametrize("raw, authorities", FAKE_AUTHORITY_CASES)
def test_fake_authority_is_found(raw, authorities):
    finding = FAKE.find(_normalised(raw).get(TEXT))
    assert finding is not None
    assert {value for value, _, _ in finding.authorities} == authorities


@pytest.mark.parametrize("raw", NOT_FAKE_AUTHORITY)
def test_no_fake_authority_without_both_a_claim_and_a_money_demand(raw):
    assert FAKE.find(_normalised(raw).get(TEXT)) is None


# --------------------------------------------------------------------------- #
# The components on Rasa messages


def _components(order=("emergency", "fake")):
    parts = {
        "emergency": EmergencyNet.create({}, None, None, None),
        "fake": FakeAuthorityGuard.create({}, None, None, None),
    }
    return [parts[name] for name in order]


def _classified(raw: str, intent: str, confidence: float = 0.9, **extra: Any) -> Message:
    """A message as it leaves InputGuard: normalised, with the classifier's intent."""
    message = _normalised(raw)
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "ask_home_entry", "confidence": 0.05},
        {"name": EMERGENCY_INTENT, "confidence": 0.03},
    ]
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    for key, value in extra.items():
        message.set(key, value, add_to_output=True)
    InputGuard().process([message])
    return message


def _run(message: Message, order=("emergency", "fake")) -> Dict[str, Any]:
    for component in _components(order):
        component.process([message])
    return message.as_dict(only_output_properties=True)


def test_live_danger_overrides_a_fallback_and_puts_emergency_first():
    parsed = _run(_classified("砸门了😭😭", "nlu_fallback", 0.2))
    assert parsed[INTENT] == {"name": EMERGENCY_INTENT, "confidence": 1.0}
    names = [r["name"] for r in parsed[INTENT_RANKING_KEY]]
    assert names[0] == EMERGENCY_INTENT and names.count(EMERGENCY_INTENT) == 1
    assert "nlu_fallback" in names and "ask_home_entry" in names
    assert parsed[ALERTS] == [LIVE_DANGER]


def test_live_danger_overrides_a_confident_wrong_intent_and_merges_alerts():
    parsed = _run(_classified("他們衝進來了", "ask_home_entry", 0.95, alerts=["earlier"]))
    assert parsed[INTENT]["name"] == EMERGENCY_INTENT
    assert parsed[ALERTS] == ["earlier", LIVE_DANGER]


@pytest.mark.parametrize("raw", ["如果他们冲进来怎么办", "昨天催收砸门了，我该怎么投诉", "今天天气怎么样"])
def test_no_override_and_no_alert_otherwise(raw):
    parsed = _run(_classified(raw, "ask_home_entry", 0.8))
    assert parsed[INTENT] == {"name": "ask_home_entry", "confidence": 0.8}
    assert ALERTS not in parsed


def _ranked(raw: str, ranking: List[Dict[str, Any]]) -> Message:
    message = _normalised(raw)
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    return message


@pytest.mark.parametrize(
    "raw",
    [
        "昨天催收砸门了，我该怎么投诉",
        "如果他们冲进来怎么办",
        "他们刚才砸门了，现在已经走了",
        "催收说明天来砸门",
        "催收把人围住属于限制人身自由吗",
        "他们没有砸门，就是一直在打电话",  # negated
        "楼下在施工一直在砸东西",  # about something else
    ],
)
def test_a_classifier_emergency_for_a_hypothetical_or_past_danger_goes_back_to_its_topic(raw):
    ranking = [
        {"name": EMERGENCY_INTENT, "confidence": 0.6},
        {"name": "nlu_fallback", "confidence": 0.25},
        {"name": "ask_complaint", "confidence": 0.2},
        {"name": "report_harassment", "confidence": 0.1},
    ]
    parsed = _run(_ranked(raw, ranking))
    assert parsed[INTENT] == {"name": "ask_complaint", "confidence": 0.2}
    assert [r["name"] for r in parsed[INTENT_RANKING_KEY]] == ["ask_complaint", "nlu_fallback", "report_harassment"]
    assert ALERTS not in parsed


def test_sending_back_to_the_topic_can_be_switched_off():
    ranking = [{"name": EMERGENCY_INTENT, "confidence": 0.6}, {"name": "ask_complaint", "confidence": 0.2}]
    message = _ranked("昨天催收砸门了，我该怎么投诉", ranking)
    EmergencyNet.create({"back_to_topic": False}, None, None, None).process([message])
    assert message.get(INTENT) == {"name": EMERGENCY_INTENT, "confidence": 0.6}


@pytest.mark.parametrize("raw", ["他们踹门怎么办", "门口有人", "我现在在家"])
def test_a_classifier_emergency_stays_when_nothing_says_it_is_not_now(raw):
    ranking = [{"name": EMERGENCY_INTENT, "confidence": 0.6}, {"name": "ask_complaint", "confidence": 0.2}]
    parsed = _run(_ranked(raw, ranking))
    assert parsed[INTENT] == {"name": EMERGENCY_INTENT, "confidence": 0.6}


@pytest.mark.parametrize("raw", ["😭😭", "？？", "", "\x00"])
def test_empty_input_stays_empty_message(raw):
    parsed = _run(_classified(raw, "ask_home_entry", 0.8))
    assert parsed[INTENT]["name"] == "empty_message"
    assert ALERTS not in parsed


def test_fake_authority_sets_alert_entities_and_intent():
    raw = "接到电话说是公安局的，要我把钱转到安全账户"
    message = _classified(raw, "report_harassment")
    parsed = _run(message)
    text = message.get(TEXT)
    assert parsed[INTENT] == {"name": SCAM_INTENT, "confidence": 1.0}
    assert parsed[INTENT_RANKING_KEY][0]["name"] == SCAM_INTENT
    assert parsed[ALERTS] == [FAKE_AUTHORITY]
    spans = {e["value"]: text[e["start"] : e["end"]] for e in parsed[ENTITIES]}
    assert spans == {"冒充警察": "公安局", "转账私人账户": "把钱转到"}  # the first money phrase
    assert all(
        e["entity"] == "behavior" and e["extractor"] == "FakeAuthorityGuard" and e["confidence"] == 1.0
        for e in parsed[ENTITIES]
    )


def test_fake_authority_keeps_entities_the_extractor_already_found():
    existing = [
        {
            "entity": "behavior",
            "value": "冒充警察",
            "start": 0,
            "end": 4,
            "confidence": 1.0,
            "extractor": "ChineseEntityExtractor",
        }
    ]
    parsed = _run(_classified("冒充警察的人说要交保证金", "ask_fake_documents", entities=existing))
    values = [e["value"] for e in parsed[ENTITIES]]
    assert sorted(values) == ["冒充警察", "转账私人账户"]
    assert parsed[ENTITIES][0]["extractor"] == "ChineseEntityExtractor"


@pytest.mark.parametrize("kept", ["ask_fake_documents", "ask_collector_legitimacy", "ask_criminal_risk"])
def test_fake_authority_keeps_intents_that_already_cover_it(kept):
    parsed = _run(_classified("派出所说我涉嫌洗钱，要把钱转到安全账户", kept, 0.7))
    assert parsed[INTENT] == {"name": kept, "confidence": 0.7}
    assert parsed[ALERTS] == [FAKE_AUTHORITY]


@pytest.mark.parametrize("order", [("emergency", "fake"), ("fake", "emergency")])
def test_live_emergency_wins_the_intent_but_both_alerts_are_set(order):
    raw = "自称警察的人在砸门，让我把钱转到安全账户"
    parsed = _run(_classified(raw, "ask_fake_documents"), order)
    assert parsed[INTENT]["name"] == EMERGENCY_INTENT
    assert sorted(parsed[ALERTS]) == sorted([LIVE_DANGER, FAKE_AUTHORITY])


# --------------------------------------------------------------------------- #
# Lexicon files


def test_components_load_the_configured_lexicon_and_refuse_a_missing_one(tmp_path):
    with pytest.raises(LexiconError):
        EmergencyNet.create({"lexicon_path": str(tmp_path / "missing.yml")}, None, None, None)
    with pytest.raises(LexiconError):
        FakeAuthorityGuard.create({"lexicon_path": str(tmp_path / "missing.yml")}, None, None, None)
    broken = tmp_path / "emergency.yml"
    broken.write_text("danger:\n  force: ['砸门']\n", encoding="utf-8")  # no presence tier, no cues
    with pytest.raises(LexiconError):
        EmergencyNet.create({"lexicon_path": str(broken)}, None, None, None)


@pytest.mark.parametrize(
    "component, name", [(EmergencyNet, "emergency.yml"), (FakeAuthorityGuard, "fake_authority.yml")]
)
def test_editing_a_lexicon_changes_the_fingerprint(tmp_path, component, name):
    lexicon = tmp_path / name
    shutil.copy(LEXICONS / name, lexicon)
    config = {"lexicon_path": str(lexicon)}
    before = component.fingerprint_addon(config)
    assert before == component.fingerprint_addon(config)
    lexicon.write_text(lexicon.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert component.fingerprint_addon(config) != before


# --------------------------------------------------------------------------- #
# A real (tiny) trained model with the project's pipeline: the override shows in parse output.

TINY_NLU = """version: "3.1"
nlu:
- intent: ask_home_entry
  examples: |
    - 催收的人能进我家吗
    - 我不开门算不算违法
    - 如果他们冲进来怎么办
    - 他们赖着不走我能报警吗
- intent: report_harassment
  examples: |
    - 催收天天打电话骂我
    - 他们说要在我家门口泼油漆
    - 催收爆我通讯录
- intent: greet
  examples: |
    - 你好
    - 在吗
- intent: empty_message
  examples: |
    - ?
    - 。。。
"""


def test_trained_pipeline_overrides_in_parse_output(tmp_path, monkeypatch):
    """No emergency_now or ask_fake_documents in the training data: only the components can say them."""
    import yaml
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for step in config["pipeline"]:
        if step["name"].endswith("ChineseEntityExtractor"):
            step["patterns_path"] = str(ROOT / "data" / "patterns")
    config["policies"] = []
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (tmp_path / "nlu.yml").write_text(TINY_NLU, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    model = train_nlu("config.yml", "nlu.yml", str(tmp_path / "models"), fixed_model_name="tiny")
    agent = Agent.load(model)

    def parse(text: str) -> Dict[str, Any]:
        return asyncio.run(agent.parse_message(text))

    live = parse("他們衝進來了😭😭")
    assert live["intent"] == {"name": EMERGENCY_INTENT, "confidence": 1.0}
    assert live["intent_ranking"][0]["name"] == EMERGENCY_INTENT
    assert live[ALERTS] == [LIVE_DANGER] and live["text_script"] == "traditional"

    hypothetical = parse("如果他们冲进来怎么办")
    assert hypothetical["intent"]["name"] != EMERGENCY_INTENT and ALERTS not in hypothetical

    scam = parse("说是公安局的，要我把钱转到安全账户")
    assert scam["intent"]["name"] == SCAM_INTENT and scam[ALERTS] == [FAKE_AUTHORITY]
    behaviors = [e["value"] for e in scam["entities"] if e["entity"] == "behavior"]
    assert sorted(behaviors) == ["冒充警察", "转账私人账户"]  # the extractor's 冒充警察 is not repeated

    both = parse("冒充警察的人在砸门，让我转账到安全账户")
    assert both["intent"]["name"] == EMERGENCY_INTENT
    assert sorted(both[ALERTS]) == sorted([LIVE_DANGER, FAKE_AUTHORITY])

    empty = parse("😭😭")
    assert empty["intent"]["name"] == "empty_message" and ALERTS not in empty
