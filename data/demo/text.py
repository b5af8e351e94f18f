"""Sentence templates that turn topic vocabulary into need and achievement texts.

Needs speak as a company with a problem (symptoms, what was tried, what it wants); achievements
speak as a research team (challenge, method, verified effect, IP, maturity). Every choice draws
from the caller's seeded ``random.Random`` so the corpus is reproducible.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from data.demo.topics import Family, Pair, Solution

__all__ = [
    "MATURITY_TRL",
    "achievement_abstract",
    "achievement_title",
    "fill_numbers",
    "ip_number",
    "need_description",
    "need_title",
    "person_name",
]

MATURITY_TRL: dict[str, tuple[int, int]] = {
    "实验室": (3, 4),
    "小试": (4, 5),
    "中试": (6, 7),
    "产业化": (8, 9),
}

_NUMBER_DRAWS: dict[str, Sequence[str]] = {
    "p": [str(v) for v in range(15, 61, 5)],
    "q": [str(v) for v in range(3, 16)],
    "a": [str(v) for v in range(90, 100)],
    "n": [str(v) for v in range(2, 10)],
    "x": ["1.5", "2", "2.5", "3", "4"],
    "d": ["0.5", "0.8", "1.2", "1.5", "2", "2.5"],
}
_PLACEHOLDER = re.compile(r"\{([pqanxd])\}")

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰晓东海燕鹏飞宇浩然欣怡子涵雨轩博文思远嘉琪梓萱"

_NEED_TITLES = (
    "{p0}，求技术解决方案",
    "{object}技术需求：{p0}",
    "寻求{goal}的技术方案",
    "关于{object}的技术需求——{p0}",
)
_NEED_BACKGROUNDS = (
    "我公司位于{place}，是一家{tag}，主营{product}。",
    "公司地处{place}，长期从事{industry}领域的生产经营，主导产品为{product}。",
    "我公司主要生产{product}，产品销往全国多个省份。",
    "我单位是{place}的{industry}企业，近年来{product}业务增长较快。",
)
_NEED_PROBLEMS = (
    "目前{object}存在以下问题：{p0}，{p1}。",
    "我们在{object}的生产使用中遇到难题：{p0}；同时{p1}。",
    "{object}方面，{p0}，{p1}，已成为制约企业发展的瓶颈。",
)
_NEED_TRIED = (
    "企业曾尝试调整工艺参数、更换供应商等办法，但效果有限。",
    "此前与设备厂家合作改进过，但问题没有得到根本解决。",
    "国外虽有成熟方案，但价格过高、服务响应慢。",
    "公司技术团队力量有限，难以独立攻关。",
)
_NEED_GOALS = ("希望{goal}。", "期望通过技术合作{goal}。", "现征集能够{goal}的技术成果或研发团队。")

_ACH_OPENINGS = (
    "针对{challenge}的问题，{team}开展了系统研究。",
    "{challenge}是{app}领域长期面临的关键难题。",
    "为解决{challenge}这一瓶颈，{team}围绕{app}开展攻关。",
)
_ACH_GENERIC_OPENINGS = (
    "{team}长期从事{app}方向的研究，形成了一套具有自主知识产权的技术。",
    "本成果面向{app}领域的实际应用需求研发。",
)
_ACH_METHODS = ("该成果{method}。", "本成果{method}。", "{team}{method}。")
_ACH_TESTS = {"实验室": "实验室测试", "小试": "小试验证", "中试": "中试验证", "产业化": "合作企业的工程应用"}
_ACH_STAGE = {
    "实验室": "目前处于实验室阶段，可开展合作开发。",
    "小试": "已完成小试，具备中试放大条件。",
    "中试": "已建成中试线，可提供工艺包。",
    "产业化": "已实现产业化应用，可提供技术培训与工程服务。",
}
_TEAMS = ("本团队", "课题组", "研究团队", "项目组")


def fill_numbers(template: str, rng: random.Random) -> str:
    """Replace each placeholder occurrence with its own random plausible number."""
    return _PLACEHOLDER.sub(lambda m: rng.choice(_NUMBER_DRAWS[m.group(1)]), template)


def person_name(rng: random.Random) -> str:
    """A plausible Chinese personal name (surname + one or two given characters)."""
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(_SURNAMES) + given


def _problems(pair: Pair, rng: random.Random) -> tuple[str, str]:
    first, second = pair.problems[0], pair.problems[1]
    return (first, second) if rng.random() < 0.6 else (second, first)


def need_title(pair: Pair, obj: str, goal: str, rng: random.Random, *, with_object: bool = False) -> str:
    """A need title in the company's words: the symptom, or what it wants to reach.

    ``with_object`` forces a template naming the object, which tells apart two needs of one topic.
    """
    first, _ = _problems(pair, rng)
    templates = _NEED_TITLES[1::2] if with_object else _NEED_TITLES
    return rng.choice(templates).format(p0=first, object=obj, goal=goal)


def need_description(
    family: Family, pair: Pair, *, obj: str, goal: str, place: str, tag: str, rng: random.Random
) -> str:
    """Three to five sentences: background, problem, (what was tried), goal, (terms are added later)."""
    first, second = _problems(pair, rng)
    background = rng.choice(_NEED_BACKGROUNDS).format(
        place=place, tag=tag, product=family.product, industry=family.industry
    )
    sentences = [background, rng.choice(_NEED_PROBLEMS).format(object=obj, p0=first, p1=second)]
    if rng.random() < 0.5:
        sentences.append(rng.choice(_NEED_TRIED))
    sentences.append(rng.choice(_NEED_GOALS).format(goal=goal))
    return "".join(sentences)


def achievement_title(solution: Solution, variant: int) -> str:
    """The solution's title; later achievements on the same solution get a different wording."""
    title = solution.title
    if variant % 3 == 1:
        return title if title.startswith("一种") else "一种" + title
    if variant % 3 == 2:
        return title + "的研究与应用"
    return title


def achievement_abstract(
    family: Family, solution: Solution, *, maturity: str, ip_type: str, rng: random.Random
) -> str:
    """Three to six sentences in academic style: challenge, method, verified effect, IP, use, stage."""
    team = rng.choice(_TEAMS)
    app = rng.choice(family.apps)
    # About a third of abstracts never state the challenge: only the method tells what they solve.
    openings = _ACH_GENERIC_OPENINGS if rng.random() < 0.35 else _ACH_OPENINGS
    sentences = [
        rng.choice(openings).format(challenge=solution.challenge, team=team, app=app),
        rng.choice(_ACH_METHODS).format(method=solution.method, team=team),
        f"经{_ACH_TESTS[maturity]}，{fill_numbers(solution.effect, rng)}。",
    ]
    if rng.random() < 0.7:
        sentences.append(_ip_sentence(ip_type, rng))
    if rng.random() < 0.6:
        sentences.append(f"成果可应用于{'、'.join(family.apps)}等领域，具有良好的推广前景。")
    if rng.random() < 0.4:
        sentences.append(_ACH_STAGE[maturity])
    return "".join(sentences)


def _ip_sentence(ip_type: str, rng: random.Random) -> str:
    count = rng.randint(1, 6)
    return {
        "发明专利": f"已获授权发明专利{count}项。",
        "实用新型": f"已获授权实用新型专利{count}项。",
        "软件著作权": f"已取得软件著作权{count}项。",
        "技术秘密": "核心工艺以技术秘密形式保护。",
    }[ip_type]


def _patent_check(digits: str) -> str:
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def ip_number(ip_type: str, rng: random.Random) -> str | None:
    """A synthetic IP number in the official shape (patent numbers carry their check digit)."""
    year = rng.randint(2016, 2024)
    if ip_type in ("发明专利", "实用新型"):
        digits = f"{year}{1 if ip_type == '发明专利' else 2}{rng.randint(0, 9_999_999):07d}"
        return f"ZL{digits}.{_patent_check(digits)}"
    if ip_type == "软件著作权":
        return f"{year}SR{rng.randint(0, 9_999_999):07d}"
    return None
