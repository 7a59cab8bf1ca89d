"""Benchmark: 100,000 short mixed zh/en feedback texts -> tokenise, near-duplicates, clusters, themes.

Run: python bench/bench_text.py [n_texts]. Prints seconds per stage. The texts are synthesised
from templates with random customers, systems, numbers and English fragments so that nearly all
are distinct (the tokenizer caches repeated texts, which would flatter the figure).
Target on the 2-core reference machine: under 30 s in total for 100,000 texts.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.text import Tokenizer, discover_themes  # noqa: E402

TEMPLATES = [
    "希望{customer}能支持微信报修，{system}出问题时手机上就能提交工单",
    "{system}故障已经{hours}小时了，驻场工程师还没到现场",
    "备件更换太慢，{system}的硬盘等了{days}天才换好",
    "Please provide onsite engineer support for {system} during {hours}x7 hours",
    "服务台响应速度很快，{hours}分钟内就回电话了，点赞",
    "新上线的{system}培训不足，{customer}很多员工不会用",
    "The {system} outage took {hours} hours to fix, spare parts arrived late",
    "建议每月提供服务报告，包括{system}的工单数量和SLA达成率",
    "{customer}希望增加巡检频次，{system}每{days}天巡检一次",
    "堡垒机登录{system}经常超时，VPN也不稳定，please check ASAP",
    "等保测评前需要完成{system}漏洞扫描，希望{days}天内给方案",
    "工程师态度很好，耐心解答{customer}关于{system}的问题",
    "Training on {system} was too short, staff of {customer} need more sessions",
    "灾备切换演练什么时候做？{system}双活架构需要验证",
    "电话回访时反馈{system}打印机卡纸问题反复出现，修了{days}次",
]
CUSTOMERS = ["华东银行", "江南证券", "华北电力", "北方制造", "南方航空", "珠江医院", "西部能源", "东海物流"]
SYSTEMS = [
    "OA系统",
    "ERP",
    "邮件系统",
    "核心交换机",
    "存储阵列",
    "CRM",
    "财务系统",
    "视频会议",
    "数据库",
    "门户网站",
]


COMMON_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产"
    "种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从"
    "业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又"
    "么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位"
)
ENGLISH_WORDS = [
    "printer",
    "network",
    "server",
    "backup",
    "login",
    "password",
    "upgrade",
    "patch",
    "license",
    "storage",
    "cluster",
]


def _detail_pool(rng: random.Random, size: int = 20_000) -> list[str]:
    """Pseudo-words (random character pairs, some English) so the vocabulary is not only templates."""
    pool = [rng.choice(COMMON_CHARS) + rng.choice(COMMON_CHARS) for _ in range(size)]
    return pool + [f"{w}{rng.randint(1, 99)}" for w in ENGLISH_WORDS for _ in range(20)]


def synthesise(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    pool = _detail_pool(rng)
    # Zipf-like use of the pool: a few words are common, most are rare, as in real comments.
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    details = rng.choices(pool, weights=weights, k=3 * n)
    texts = []
    for i in range(n):
        text = rng.choice(TEMPLATES).format(
            customer=rng.choice(CUSTOMERS),
            system=rng.choice(SYSTEMS),
            hours=rng.randint(1, 48),
            days=rng.randint(1, 30),
        )
        extra = "".join(details[3 * i : 3 * i + rng.randint(0, 3)])
        texts.append(f"{text}，{extra}（编号{i}）" if rng.random() < 0.5 else f"{text} {extra} #{i}")
    return texts


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    start = time.perf_counter()
    texts = synthesise(n)
    ids = list(range(n))
    print(f"texts: {n:,} ({len(set(texts)):,} distinct), synthesised in {time.perf_counter() - start:.2f} s")

    stages: list[tuple[str, float]] = []
    t = time.perf_counter()
    tokenizer = Tokenizer()
    tokenizer.for_themes().tokenize("工单")
    stages.append(("load jieba + domain dictionary", time.perf_counter() - t))

    # As the application runs it: requirements apart from comments, comments by rating band.
    strata = [("need", "voice:positive", "voice:negative")[i % 3] for i in range(n)]
    t = time.perf_counter()
    model = discover_themes(texts, ids, tokenizer, strata=strata)
    stages.append(
        (f"themes, first run ({len(model.themes)} themes, tokenising included)", time.perf_counter() - t)
    )

    t = time.perf_counter()
    rerun = discover_themes(texts, ids, tokenizer, decisions=model.decisions, strata=strata)
    stages.append(("themes re-run with decisions (tokens cached, matching)", time.perf_counter() - t))

    for name, seconds in stages:
        print(f"{seconds:8.2f} s  {name}")
    print(f"{stages[0][1] + stages[1][1]:8.2f} s  total: load + first run")
    same = sum(a.theme_key == b.theme_key for a, b in zip(model.assignments, rerun.assignments, strict=True))
    print(f"re-run kept the theme key of {same / n:.1%} of entries")
    themed = sum(a.theme_key is not None for a in model.assignments)
    print(f"themed entries: {themed / n:.1%}")
    for theme in model.themes[:15]:
        print(f"  {theme.key:>5} {theme.size:7,}  {' / '.join(theme.top_terms[:5])}")
    with open("/proc/loadavg") as handle:
        print("load average:", " ".join(handle.read().split()[:3]))


if __name__ == "__main__":
    main()
