"""A large text set shaped like a real provider's, with its gold grouping known, for the scale
benchmarks (bench_analysis.py --text-run, bench_text_quality.py --generated N).

``generate(n, seed)`` returns ``n`` texts (deterministic for a seed): personalised requirements
and rated feedback comments of 36 customers in 12 regions over 52 weeks. Each text is one
phrasing of a gold need or feedback topic, written by a person, then varied the way real reports
vary:

- the phrasings: every need and topic of the labelled set (tests/analysis/data/labelled_texts.tsv,
  its dynamics left out: they are not text entries) plus the needs and topics below, in Chinese
  and some English;
- request words swapped (希望 / 建议 / 能否 / 麻烦 ...), everyday synonyms (电脑 / 计算机,
  工程师 / 技术人员 ...), numbers changed, clauses of a Chinese sentence turned round;
- who wrote it: customer, department, region or person before or after the text, a ticket
  number, a date, "谢谢" / "比较急";
- near-duplicates: a text pasted again with other punctuation or spacing (the spaces next to
  Chinese dropped; an English text keeps its word spaces, as a person pasting it again would);
- noise: "无", "同上", "N/A" (each its own gold group: they say nothing).

How often a need comes up follows a Zipf law over the needs; each need is raised by a fixed
subset of the customers (two to all 36), so some needs are common needs in a week and others,
however frequent, are not; a few needs only begin in the last weeks (emerging). A comment's 1-5
rating follows its gold sentiment, with 5% of ratings one band off (people click carelessly).

The gold common needs follow the product's rule on the gold grouping
(tests/analysis/labelled_set.gold_common_needs).
"""

from __future__ import annotations

import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.analysis.labelled_set import load  # noqa: E402

WEEKS = 52
REGIONS = (
    ("BJ", "北京", "Beijing"),
    ("SH", "上海", "Shanghai"),
    ("GD", "广东", "Guangdong"),
    ("SC", "四川", "Sichuan"),
    ("ZJ", "浙江", "Zhejiang"),
    ("HB", "湖北", "Hubei"),
    ("JS", "江苏", "Jiangsu"),
    ("SD", "山东", "Shandong"),
    ("HN", "河南", "Henan"),
    ("HU", "湖南", "Hunan"),
    ("FJ", "福建", "Fujian"),
    ("SX", "陕西", "Shaanxi"),
)
CUSTOMER_NAMES = (
    "华东银行", "江南证券", "华北电力", "北方制造", "南方航空", "珠江医院", "西部能源", "东海物流",
    "中原烟草", "天府农商行", "湘江水务", "闽南港务", "长江汽车", "黄河化工", "京华保险", "申城地铁",
    "岭南制药", "蜀道高速", "钱塘电商", "楚天传媒", "金陵钢铁", "齐鲁医院", "豫州粮储", "潇湘出版",
    "八闽燃气", "秦岭水泥", "燕山石化", "浦江基金", "粤海食品", "巴蜀酒业", "西湖文旅", "汉江机械",
    "太湖纺织", "泰山建材", "洛阳重工", "岳麓教育",
)  # fmt: skip
DEPARTMENTS = (
    "财务部", "信息中心", "人力资源部", "销售部", "生产车间", "行政部", "研发中心", "客服中心",
    "仓储物流部", "法务部", "采购部", "总经办",
)  # fmt: skip
DEPARTMENTS_EN = ("Finance", "IT", "HR", "Sales", "Production", "Admin", "R&D", "Customer service")
PEOPLE = ("张工", "李经理", "王主任", "刘老师", "陈科长", "赵工", "孙主管", "周总", "吴部长", "郑工")

#: Needs and feedback topics beyond the labelled set's: (gold, kind, sentiment, phrasings); a
#: comment's phrasings are (rating, text) pairs. Several overlap others on purpose, as real needs
#: do (日志审计 / 等保, 视频监控 / 运维监控, 互联网出口 / 网络, 单点登录 / 密码).
EXTRA_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vpn", (
        "希望开通远程办公 VPN，出差时能访问内网系统",
        "居家办公需要 VPN 账号，请协助开通",
        "VPN 并发数不够，早上大家同时登录就连不上，希望扩容",
        "建议更换 SSL VPN 设备，支持更多远程用户",
        "能否提供在笔记本上一键连接的 VPN 客户端",
        "Please set up VPN access so staff can work from home",
    )),
    ("permission", (
        "新员工账号开通要等一周，希望简化权限申请流程",
        "系统权限申请审批太繁琐，建议改成线上审批",
        "希望离职人员的账号能及时回收，定期做权限清理",
        "能否统一管理各业务系统的账号和权限",
        "账号开通和权限变更希望当天完成",
        "Need a faster process for granting system access to new hires",
    )),
    ("sso", (
        "系统太多密码记不住，希望做单点登录",
        "建议建设统一身份认证平台，一个账号登录所有系统",
        "OA、ERP 和邮箱能否实现单点登录",
        "希望内部系统接入统一认证，减少重复登录",
        "Single sign-on across our internal applications would save a lot of time",
    )),
    ("pc_refresh", (
        "部分电脑用了七八年，开机很慢，希望更换新电脑",
        "办公电脑老化严重，建议制定更新换代计划",
        "希望把老旧台式机换成笔记本",
        "能否给设计部门配置高性能电脑",
        "电脑内存太小，希望统一加内存、换固态硬盘",
        "Many desktops are over seven years old, please plan a hardware refresh",
    )),
    ("license", (
        "希望梳理正版软件授权，避免版权风险",
        "Office 授权快到期了，需要续费和统一管理",
        "建议做一次软件正版化检查，卸载盗版软件",
        "设计软件授权不够用，希望增加许可数量",
        "Please audit our software licences before the renewal",
    )),
    ("db_tuning", (
        "业务系统查询越来越慢，希望做数据库性能优化",
        "月底数据库负载很高，需要 DBA 帮忙调优",
        "建议对核心数据库做一次健康检查和慢查询分析",
        "数据库表空间快满了，希望做容量规划",
        "Our database is slow at month end, please tune it",
    )),
    ("log_audit", (
        "希望部署日志审计系统，集中收集服务器日志",
        "需要对运维操作做审计，建议上堡垒机",
        "日志分散在各台设备上，出了问题很难查，希望集中管理日志",
        "监管要求日志保存六个月以上，需要日志存储方案",
        "We need central log collection and audit for all servers",
    )),
    ("website", (
        "公司官网经常打不开，希望加强网站运维",
        "门户网站需要改版，希望提供建设方案",
        "官网内容更新能否由你们协助发布",
        "官网被篡改过一次，希望做网站防篡改",
        "Please take over maintenance of our corporate website",
    )),
    ("erp", (
        "ERP 系统使用中问题多，希望派应用顾问支持",
        "希望提供 ERP 二次开发服务，增加几个查询功能",
        "ERP 月结时经常报错，需要专人支持",
        "财务人员不会用 ERP 新功能，希望有人现场指导",
        "Need application support for SAP month-end closing",
    )),
    ("phone", (
        "办公电话线路老化，希望改造成 IP 电话",
        "新办公室需要安装分机电话",
        "希望座机能转接到手机，外出也能接听",
        "呼叫中心话务系统需要扩容坐席",
        "We would like to move to an IP phone system",
    )),
    ("cabling", (
        "办公室网线乱，希望重新做综合布线",
        "新增工位需要布网线和信息点",
        "机房线缆杂乱，建议整理理线并贴标签",
        "楼层弱电间需要重新规划布线",
        "Please re-cable the second floor and label every port",
    )),
    ("ups", (
        "机房 UPS 电池老化，希望更换电池",
        "停电时 UPS 只能撑十分钟，建议扩容",
        "希望给机房增加一路备用电源",
        "UPS 需要定期放电测试，请安排",
        "The UPS batteries in the server room need replacing",
    )),
    ("aircon", (
        "机房温度偏高，希望增加精密空调",
        "机房空调经常报警，需要维修保养",
        "夏天机房太热，服务器频繁重启，空调制冷不够",
        "希望每季度对机房空调做一次保养",
        "The server room air conditioning cannot keep up in summer",
    )),
    ("storage", (
        "共享存储空间快满了，希望扩容",
        "文件服务器容量不足，需要增加存储",
        "建议采购新的存储阵列，旧的快过保了",
        "影像数据增长很快，希望做存储规划",
        "Our NAS is almost full, we need more storage",
    )),
    ("file_share", (
        "希望搭建企业网盘，方便部门之间共享文件",
        "共享文件夹权限混乱，希望重新梳理",
        "大文件外发很麻烦，能否提供安全的文件传输工具",
        "希望员工电脑文件能自动同步到网盘",
        "Staff need a secure way to share large files with partners",
    )),
    ("dlp", (
        "担心员工拷贝客户资料，希望部署数据防泄露",
        "建议对 U 盘拷贝和外发邮件做管控",
        "希望对敏感文件加密，防止外泄",
        "研发资料需要防泄密措施",
        "Please help us prevent data leaks via USB drives and email",
    )),
    ("ticketing", (
        "希望工单能显示处理人和预计完成时间",
        "工单分类太多，报修时不知道选哪个，建议简化",
        "能否在工单关闭前让我们确认满意后再关",
        "希望工单平台和我们的 OA 打通",
        "The ticket portal should show who is working on my request",
    )),
    ("knowledge", (
        "希望整理常见问题知识库，员工自己就能解决小问题",
        "建议把常见故障处理方法做成 FAQ 发给我们",
        "能否提供一份常用软件使用指南",
        "希望知识库能在内网上查阅",
        "A self-help knowledge base for common IT questions would help",
    )),
    ("new_office", (
        "明年搬新办公楼，希望提前规划网络和弱电",
        "新分公司开业，需要整体 IT 环境搭建",
        "希望协助新办公区的电脑和网络部署",
        "办公室搬迁需要你们安排人员拆装设备",
        "We are opening a new branch office and need the IT set up",
    )),
    ("room_booking", (
        "希望上线会议室预约系统，避免会议室冲突",
        "会议室经常被占，能否做一个在线预订",
        "建议会议室门口装预约屏",
        "Please provide a room booking system for our meeting rooms",
    )),
    ("contract", (
        "希望重新评审服务合同中的 SLA 指标",
        "明年续签合同，希望增加服务内容",
        "合同里的响应时间要求希望缩短到 30 分钟",
        "建议按季度回顾服务水平协议执行情况",
        "We want to renegotiate the SLA targets at renewal",
    )),
    ("warranty", (
        "部分服务器已过保，希望纳入第三方维保",
        "网络设备维保到期，需要续保",
        "希望把所有硬件设备统一纳入维保合同",
        "过保设备出故障没人修，希望提供维保服务",
        "Several servers are out of warranty, please quote maintenance",
    )),
    ("internet", (
        "互联网出口带宽不够，中午上网很慢",
        "希望增加一条备用互联网线路",
        "建议做出口链路负载均衡",
        "访问外网经常超时，希望排查出口线路",
        "Internet access is slow at lunch time, we need a second line",
    )),
    ("desktop", (
        "希望统一推送安装软件，不用每台电脑手动装",
        "建议部署桌面管理系统，远程安装软件",
        "能否做标准化装机镜像，新电脑半小时就能用",
        "电脑装软件太依赖工程师上门，希望远程处理",
        "Please set up remote software deployment for all PCs",
    )),
    ("bi", (
        "希望建设数据分析平台，把各系统数据汇总",
        "领导想看经营数据大屏，能否帮忙搭建",
        "建议做一个 BI 数据分析平台",
        "各部门数据口径不一致，希望做数据治理",
        "We want a BI dashboard that pulls data from ERP and CRM",
    )),
    ("ai", (
        "想了解大模型能否用在我们的客服系统",
        "希望评估一下 AI 助手在办公中的应用",
        "能否部署一个内部知识问答机器人",
        "领导让我们调研生成式 AI，希望你们给建议",
        "Could you advise on using large language models internally",
    )),
    ("cctv", (
        "厂区视频监控摄像头经常掉线，希望维护",
        "希望增加门口和仓库的监控摄像头",
        "监控录像只能保存七天，希望延长到三十天",
        "安防摄像头需要纳入运维范围",
        "The CCTV cameras in the warehouse keep going offline",
    )),
    ("door_access", (
        "门禁系统刷卡经常失灵，希望维修",
        "希望门禁和考勤系统打通",
        "新员工门禁卡办理太慢",
        "The door access card system needs to be linked to HR",
    )),
)  # fmt: skip
EXTRA_TOPICS: tuple[tuple[str, str, tuple[tuple[int, str], ...]], ...] = (
    ("poor_docs", "negative", (
        (2, "交付的文档很简单，很多配置没有写清楚"),
        (1, "项目文档迟迟没有交付，验收一直拖着"),
        (2, "巡检报告都是复制粘贴，没有实际内容"),
        (2, "运维手册和实际配置对不上"),
        (1, "The handover documents were incomplete and out of date"),
    )),
    ("praise_attitude", "positive", (
        (5, "工程师很有耐心，讲解细致，服务态度好"),
        (5, "驻场同事很热情，有求必应"),
        (4, "服务台的同事态度特别好，谢谢"),
        (5, "工程师礼貌周到，值得表扬"),
        (5, "The engineer was polite and patient with our staff"),
    )),
    ("poor_training", "negative", (
        (2, "培训时间太短，内容太多，没听懂"),
        (1, "培训讲得太快，大部分同事没学会"),
        (2, "培训内容和实际操作不符"),
        (2, "The training was too rushed to be useful"),
        (1, "讲师照着 PPT 念，培训效果很差"),
    )),
)  # fmt: skip
NOISE = ("无", "暂无", "暂无需求", "本周无新增", "同上", "N/A", "none", "没有", "/", "无意见", "-", "ok")
#: The feedback dimension a weekly report's feedback entry is filed under, per gold topic (the
#: others, e.g. "neutral_ok" and noise, under any dimension).
DIMENSION = {
    "slow_response": "response_speed",
    "praise_response": "response_speed",
    "recurring": "fault_handling",
    "praise_training": "training_effect",
    "poor_training": "training_effect",
    "praise_docs": "deliverable_quality",
    "poor_docs": "deliverable_quality",
    "attitude": "staff_attitude",
    "praise_attitude": "staff_attitude",
    "conformity": "service_conformity",
}
DIMENSIONS = (
    "response_speed",
    "fault_handling",
    "deliverable_quality",
    "staff_attitude",
    "service_conformity",
    "training_effect",
)
EMERGING = frozenset({"ai", "sso", "xinchuang"})  # begin in the last eight weeks

_REQUEST = ("希望", "建议", "能否", "请", "麻烦", "我们希望", "想请贵司", "需要", "期望", "客户希望")
_SYNONYMS = (
    ("电脑", ("计算机", "PC", "终端电脑")),
    ("工程师", ("技术人员", "运维人员", "师傅")),
    ("服务台", ("热线", "IT 热线")),
    ("尽快", ("早日", "尽早")),
    ("经常", ("总是", "老是", "时常")),
    ("员工", ("同事", "职工")),
    ("公司", ("单位",)),
    ("我们", ("我司", "我方")),
    ("提供", ("给出",)),
    ("增加", ("添加", "新增")),
    ("领导", ("上级", "领导层")),
    ("非常", ("十分", "特别")),
    ("方案", ("计划",)),
    ("做一次", ("安排一次", "搞一次")),
    ("please", ("kindly", "could you")),
    ("staff", ("employees", "colleagues")),
)
SYSTEMS = ("OA", "ERP", "CRM", "HIS", "MES", "财务系统", "邮件系统", "门户")
_NEED_ENDINGS = (
    "，请尽快安排",
    "，谢谢",
    "，比较急",
    "。联系人：{person}",
    "（{month}月{day}日）",
    "，涉及约{n}人",
    "，工单号 {ticket}",
    "，具体可电话沟通",
    "，下周前答复",
    "，请评估后报价",
)
_VOICE_ENDINGS = ("，谢谢", "。{person}", "（{month}月{day}日）", "，工单号 {ticket}", "，请转达", "。以上")
_NUMBER = re.compile(r"(?<![A-Za-z\d.])\d+(?![\d.]*[A-Za-z])")
_HAN = re.compile(r"[\u3400-\u9fff]")
_SPACE_BY_HAN = re.compile(r"(?<=[\u3400-\u9fff，。：]) +| +(?=[\u3400-\u9fff，。：])")


@dataclass(frozen=True)
class GeneratedText:
    """One text and its gold (duck-compatible with tests/analysis/labelled_set.LabelledText)."""

    id: int
    gold: str
    week: int  # 0 = the newest week, -51 the oldest
    region: str
    customer: int  # index into CUSTOMER_NAMES; region REGIONS[customer % 12]
    kind: str  # requirement / feedback
    rating: int | None
    sentiment: str
    text: str
    dimension: str | None = None  # feedback: the dimension it was filed under


@dataclass(frozen=True)
class _Group:
    gold: str
    kind: str
    sentiment: str
    phrasings: tuple[tuple[int | None, str], ...]


def groups(extra: bool = True) -> list[_Group]:
    """The gold needs and topics with their phrasings: the labelled set's, then (with `extra`) the
    extra ones."""
    phrasings: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    kind_of: dict[str, tuple[str, str]] = {}
    for t in load():
        if t.kind == "dynamic":
            continue
        if t.text not in {p for _, p in phrasings[t.gold]}:
            phrasings[t.gold].append((t.rating, t.text))
        kind_of.setdefault(t.gold, (t.kind, t.sentiment))
    out = [_Group(g, *kind_of[g], tuple(p)) for g, p in phrasings.items()]
    if not extra:
        return out
    out += [_Group(g, "requirement", "neutral", tuple((None, p) for p in ps)) for g, ps in EXTRA_NEEDS]
    out += [_Group(g, "feedback", s, ps) for g, s, ps in EXTRA_TOPICS]
    return out


def _vary(text: str, rng: random.Random, customer: int, requirement: bool) -> str:
    han = bool(_HAN.search(text))
    if han and rng.random() < 0.5:
        for word in _REQUEST:
            if text.startswith(word):
                text = rng.choice(_REQUEST) + text[len(word) :]
                break
    for word, others in _SYNONYMS:
        if word in text and rng.random() < 0.35:
            text = text.replace(word, rng.choice(others), 1)
    if rng.random() < 0.5:
        text = _NUMBER.sub(lambda m: str(rng.randint(2, 9) * 10 ** (len(m.group(0)) - 1)), text)
    if han and rng.random() < 0.25:
        parts = [p for p in text.split("，") if p]
        if len(parts) >= 2:
            text = "，".join(parts[1:] + parts[:1])
    region = REGIONS[customer % len(REGIONS)]
    name = CUSTOMER_NAMES[customer]
    if rng.random() < 0.5:
        if han:
            text = (
                rng.choice(
                    (
                        f"{rng.choice(DEPARTMENTS)}反映：",
                        f"{name}{rng.choice(DEPARTMENTS)}提出：",
                        f"【{region[1]}】",
                        f"{region[1]}{name}：",
                        "客户反馈：",
                        f"据{rng.choice(DEPARTMENTS)}反映，",
                        f"{rng.choice(PEOPLE)}（{name}）：",
                    )
                )
                + text
            )
        else:
            text = (
                rng.choice((f"{region[2]} office: ", f"From {rng.choice(DEPARTMENTS_EN)}: ", "Customer: "))
                + text
            )
    if han and requirement and rng.random() < 0.3:
        text = text.rstrip("。！!") + rng.choice(
            (
                f"，目前有{rng.randint(2, 9)}个部门提过",
                f"（{rng.randint(2, 30)}楼）",
                f"，{rng.choice(SYSTEMS)}那边也一样",
                f"，{rng.choice(PEOPLE)}已经提过{rng.randint(2, 5)}次",
                f"，{rng.choice(REGIONS)[1]}分公司也有同样需求",
            )
        )
    if rng.random() < 0.5:
        if han:
            endings = _NEED_ENDINGS if requirement else _VOICE_ENDINGS
            text = text.rstrip("。！!") + rng.choice(endings).format(
                person=rng.choice(PEOPLE),
                month=rng.randint(1, 12),
                day=rng.randint(1, 28),
                n=rng.randint(2, 300),
                ticket=rng.randint(1_000_000, 9_999_999),
            )
        else:
            text = text + rng.choice(
                (" - thanks", f" (ticket {rng.randint(10_000, 99_999)})", ", urgent", ".")
            )
    return text


def _near_duplicate(text: str, rng: random.Random) -> str:
    """The same text pasted again: other punctuation, spacing or a trailing mark."""
    choice = rng.randrange(4)
    if choice == 0:
        return text.replace("，", ",").replace("：", ":")
    if choice == 1:  # spaces around Chinese dropped ("VPN 账号" -> "VPN账号"); English keeps its own
        squeezed = _SPACE_BY_HAN.sub("", text)
        return squeezed if squeezed != text else text + " "
    if choice == 2:
        return text.rstrip("。！!.") + rng.choice(("！", "。", "!!", "？"))
    return text


def generate(n: int, seed: int = 7, *, extra: bool = True) -> list[GeneratedText]:
    """``n`` texts with their gold grouping (see the module docstring); deterministic per seed.

    ``extra=False`` keeps to the labelled set's needs and topics: the same scale, variation and
    noise, but needs as finely drawn as the labelled set's (among the extra needs' phrasings of
    one need, 43% of the pairs share neither a theme word nor a character bigram; among the
    labelled set's requirements 1.3%: several extra needs are areas a reader would split, such as
    email quota / spam filter / mobile client, or UPS battery / a second power line)."""
    rng = random.Random(seed)
    all_groups = groups(extra)
    # Zipf frequencies over the groups in a shuffled order (the labelled set's big comment
    # topics need not come first).
    order = list(range(len(all_groups)))
    rng.shuffle(order)
    weight = [0.0] * len(all_groups)
    for rank, g in enumerate(order):
        weight[g] = 1.0 / (rank + 1) ** 0.8
    # Which customers raise a need: from two to all 36 (customer c sits in region c % 12).
    reach = []
    for group in all_groups:
        size = rng.choice((2, 2, 3, 4, 6, 9, 12, 18, 36)) if group.kind == "requirement" else 36
        reach.append(sorted(rng.sample(range(len(CUSTOMER_NAMES)), size)))
    cumulative = []
    total = 0.0
    for w in weight:
        total += w
        cumulative.append(total)
    out: list[GeneratedText] = []
    seen: dict[str, list[int]] = defaultdict(list)
    for i in range(n):
        week = -rng.randrange(WEEKS)
        if rng.random() < 0.02:
            kind = rng.choice(("requirement", "feedback"))
            rating = rng.choice((3, 4)) if kind == "feedback" else None
            customer = rng.randrange(len(CUSTOMER_NAMES))
            text = rng.choice(NOISE)
            out.append(_text(i, f"noise-{i}", week, customer, kind, rating, "neutral", text))
            continue
        g = _pick(cumulative, rng.random() * total)
        group = all_groups[g]
        if group.gold in EMERGING:
            week = -rng.randrange(8)
        customer = rng.choice(reach[g])
        earlier = seen[group.gold]
        if earlier and rng.random() < 0.12:  # pasted again
            source = out[rng.choice(earlier)]
            out.append(
                _text(
                    i,
                    group.gold,
                    week,
                    customer,
                    group.kind,
                    source.rating,
                    source.sentiment,
                    _near_duplicate(source.text, rng),
                )
            )
            seen[group.gold].append(i)
            continue
        rating, phrasing = rng.choice(group.phrasings)
        if group.kind != "requirement" and rating is not None and rng.random() < 0.05:
            rating = min(5, max(1, rating + rng.choice((-2, 2))))
        text = _vary(phrasing, rng, customer, group.kind == "requirement")
        out.append(_text(i, group.gold, week, customer, group.kind, rating, group.sentiment, text))
        seen[group.gold].append(i)
    return out


def _pick(cumulative: list[float], x: float) -> int:
    import bisect

    return min(bisect.bisect_left(cumulative, x), len(cumulative) - 1)


def _text(
    i: int, gold: str, week: int, customer: int, kind: str, rating: int | None, sentiment: str, text: str
) -> GeneratedText:
    region = REGIONS[customer % len(REGIONS)][0]
    dimension = None
    if kind == "feedback":
        dimension = DIMENSION.get(gold) or DIMENSIONS[(i * 7919) % len(DIMENSIONS)]
    return GeneratedText(i + 1, gold, week, region, customer, kind, rating, sentiment, text, dimension)


if __name__ == "__main__":
    texts = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
    for t in texts[:40]:
        print(t.gold, t.kind, t.rating, t.text, sep="\t")
    print(len({t.text for t in texts}), "distinct of", len(texts), "; groups", len(groups()))
