"""Demo 揭榜挂帅 calls and 场景 scenes (deterministic; part of ``python -m data.demo.generate``).

calls.jsonl   external_id, form, need_external_id | achievement_external_id, owner_org_external_id,
              indicators, budget, application_deadline, delivery_months, max_teams, eligibility, status,
              published_on, milestones [{deliverable, acceptance_criterion, payment_share, due_months}],
              applications [{org_external_id, member_org_external_ids, proposal, team, price, schedule,
              status, contract_number | null}], signed_on | null,
              acceptances [{seq, contract_number, passed, amount | null, on}]
scenes.jsonl  external_id, org_external_id, title, description, category, field_code, region_code,
              keywords, published_on, solutions [{external_id, org_external_id, title, abstract,
              field_code, keywords, maturity}], pilots [{provider_org_external_id, solution_external_id,
              title, investment, signed_on}]

Calls wrap demo needs (揭榜攻关, 赛马制) and mature achievements (揭榜转化) that have gold pairs, so that
the applicants are the organisations a broker would expect: the holders of the gold achievements (or,
for 揭榜转化, the enterprises with a gold need). Open calls close in 2027; awarded ones were signed in
2026 and have paid milestones, so the subsidy rule M1 and the statistics show real numbers.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

__all__ = ["build_calls", "build_scenes"]

_INDICATORS = (
    ("关键性能提升", "≥ 30%", ""),
    ("连续稳定运行", "≥ 2000", "小时"),
    ("国产化率", "≥ 90%", ""),
    ("单位成本下降", "≥ 20%", ""),
    ("检测准确率", "≥ 95%", ""),
)
_MILESTONES = (
    ("技术方案与实验室样品", "通过专家评审，关键指标实验室测试达标", "0.3", 6),
    ("中试样机（样品）", "第三方检测机构出具检测报告，指标全部达标", "0.4", 12),
    ("工程化应用验证", "在发榜单位现场连续稳定运行并通过验收", "0.3", 18),
)
# (form, status, applications, winners, milestones passed by the first winner)
_PLAN = (
    ("揭榜攻关", "published", 2, 0, 0),
    ("揭榜攻关", "published", 1, 0, 0),
    ("揭榜攻关", "published", 0, 0, 0),
    ("揭榜攻关", "published", 2, 0, 0),
    ("揭榜攻关", "under_review", 2, 0, 0),
    ("揭榜攻关", "in_progress", 2, 1, 1),
    ("揭榜攻关", "in_progress", 2, 1, 2),
    ("揭榜攻关", "completed", 1, 1, 3),
    ("赛马制", "published", 2, 0, 0),
    ("赛马制", "published", 1, 0, 0),
    ("赛马制", "in_progress", 3, 2, 1),
    ("赛马制", "awarded", 2, 2, 0),
    ("揭榜转化", "published", 1, 0, 0),
    ("揭榜转化", "published", 0, 0, 0),
    ("揭榜转化", "in_progress", 2, 1, 1),
    ("揭榜转化", "under_review", 1, 0, 0),
)
_TEAM_ROLES = ("项目负责人", "技术骨干", "工程师")
_SURNAMES = "王李张刘陈杨赵黄周吴"


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _team(rng: random.Random) -> list[dict[str, str]]:
    return [
        {"name": f"{rng.choice(_SURNAMES)}{'某' * (1 + (i % 2))}", "title": t, "role": t}
        for i, t in enumerate(_TEAM_ROLES[: rng.randint(2, 3)])
    ]


def build_calls(
    needs: list[dict[str, Any]],
    achievements: list[dict[str, Any]],
    gold: list[dict[str, Any]],
    contracted_needs: set[str],
    rng: random.Random,
) -> list[dict[str, Any]]:
    """16 calls of the three forms in every state from published to completed."""
    need_by_id = {n["external_id"]: n for n in needs}
    ach_by_id = {a["external_id"]: a for a in achievements}
    solvers: dict[str, list[str]] = {}
    takers: dict[str, list[str]] = {}
    for g in gold:
        solvers.setdefault(g["need_external_id"], []).append(
            ach_by_id[g["achievement_external_id"]]["org_external_id"]
        )
        takers.setdefault(g["achievement_external_id"], []).append(
            need_by_id[g["need_external_id"]]["org_external_id"]
        )
    need_pool = sorted(
        n
        for n, orgs in solvers.items()
        if n not in contracted_needs and need_by_id[n]["visibility"] == "public" and len(set(orgs)) >= 1
    )
    ach_pool = sorted(
        a
        for a in takers
        if ach_by_id[a]["maturity"] in ("中试", "产业化") and ach_by_id[a]["visibility"] == "public"
    )
    rng.shuffle(need_pool)
    rng.shuffle(ach_pool)
    all_institutions = sorted({a["org_external_id"] for a in achievements})
    all_enterprises = sorted({n["org_external_id"] for n in needs})
    calls = []
    for n, (form, status, n_apps, winners, passed) in enumerate(_PLAN, start=1):
        reverse = form == "揭榜转化"
        posting = ach_by_id[ach_pool.pop()] if reverse else need_by_id[need_pool.pop()]
        owner = posting["org_external_id"]
        natural = takers[posting["external_id"]] if reverse else solvers[posting["external_id"]]
        pool = all_enterprises if reverse else all_institutions
        candidates = list(dict.fromkeys([o for o in natural if o != owner] + rng.sample(pool, 6)))
        candidates = [o for o in candidates if o != owner][:n_apps]
        budget = Decimal(rng.choice((300, 500, 800, 1000, 1500, 2000, 3000))) * 10_000
        running = status in ("awarded", "in_progress", "completed")
        year = 2026 if running or status == "under_review" else 2027
        deadline = f"{year}-{rng.randint(1, 3) if running else rng.randint(3, 6):02d}-{rng.randint(1, 28):02d}T16:00:00+08:00"
        published = f"{2025 if running else 2026}-{rng.randint(9, 11):02d}-{rng.randint(1, 28):02d}"
        signed_on = f"2026-{int(deadline[5:7]) + 1:02d}-15" if running else None
        applications = []
        for i, org in enumerate(candidates):
            price = (budget * Decimal(rng.choice(("0.7", "0.8", "0.9", "1")))).quantize(Decimal("1"))
            won = i < winners
            applications.append(
                {
                    "org_external_id": org,
                    "member_org_external_ids": [],
                    "proposal": f"针对“{posting['title']}”，我方拟在已有成果基础上开展工程化攻关，分阶段交付并接受验收。",
                    "team": _team(rng),
                    "price": _money(price),
                    "schedule": "按榜单里程碑分三阶段实施：6 个月方案与样品，12 个月中试，18 个月工程应用验证。",
                    "status": "awarded" if won else ("not_awarded" if running else "submitted"),
                    "contract_number": f"JBGS-D{n:03d}-{i + 1}" if won else None,
                }
            )
        acceptances = []
        for i, app in enumerate(a for a in applications if a["status"] == "awarded"):
            # under 赛马制 the second team fails the first milestone and stops
            eliminated = form == "赛马制" and i == 1 and passed >= 1
            for seq in range(1, (1 if eliminated else passed) + 1):
                on = f"2026-{min(int(deadline[5:7]) + 2 + 3 * seq, 12):02d}-10"
                share = Decimal(_MILESTONES[seq - 1][2])
                acceptances.append(
                    {
                        "seq": seq,
                        "contract_number": app["contract_number"],
                        "passed": not eliminated,
                        "amount": None if eliminated else _money(Decimal(app["price"]) * share),
                        "on": on,
                    }
                )
            if eliminated:
                app["status"] = "eliminated"
        indicators = rng.sample(_INDICATORS, 2)
        calls.append(
            {
                "external_id": f"JB{n:03d}",
                "form": form,
                "need_external_id": None if reverse else posting["external_id"],
                "achievement_external_id": posting["external_id"] if reverse else None,
                "owner_org_external_id": owner,
                "indicators": [{"name": a, "target": b, "unit": c} for a, b, c in indicators],
                "budget": _money(budget),
                "application_deadline": deadline,
                "delivery_months": 18,
                "max_teams": 3 if form == "赛马制" else 1,
                "eligibility": {
                    "org_kinds": ["enterprise"] if reverse else [],
                    "region_scope": "410000" if n % 4 == 0 else None,
                    "consortium": True,
                },
                "status": status,
                "published_on": published,
                "milestones": [
                    {"deliverable": d, "acceptance_criterion": c, "payment_share": s, "due_months": m}
                    for d, c, s, m in _MILESTONES
                ],
                "applications": applications,
                "signed_on": signed_on,
                "acceptances": acceptances,
            }
        )
    return calls


# (category, field, region, title, description, keywords, solutions [(title, abstract, keywords)], pilot investment 万元)
_SCENES: tuple[
    tuple[str, str, str, str, str, tuple[str, ...], tuple[tuple[str, str, tuple[str, ...]], ...], int], ...
] = (
    (
        "智能物流",
        "F02",
        "410100P05",
        "郑州航空港区智慧物流园区无人配送场景",
        "园区日均包裹20万件，开放3.5公里园区道路和2个分拣中心，征集无人配送车、智能分拣与园区调度解决方案，要求全天候运行、与现有仓储管理系统对接。",
        ("无人配送", "智能分拣", "园区调度"),
        (
            (
                "园区无人配送车与调度平台",
                "面向封闭园区的L4级无人配送车，激光雷达与视觉融合感知，云端调度平台支持百台级车队协同，已在两个园区运行。",
                ("无人配送", "调度平台"),
            ),
        ),
        2800,
    ),
    (
        "智能制造",
        "F02",
        "410300",
        "洛阳轴承产线数字孪生与质量检测场景",
        "开放两条轴承套圈生产线，征集基于机器视觉的表面缺陷在线检测与产线数字孪生方案，检测节拍不低于每分钟60件，漏检率低于千分之一。",
        ("机器视觉", "缺陷检测", "数字孪生"),
        (
            (
                "轴承表面缺陷机器视觉在线检测系统",
                "多光源成像与深度学习缺陷识别，适配套圈内外圈表面，节拍每分钟80件，漏检率低于万分之五。",
                ("机器视觉", "缺陷检测"),
            ),
        ),
        1200,
    ),
    (
        "智慧农业",
        "F11",
        "411300",
        "南阳百亩智慧麦田全程数字化管理场景",
        "开放小麦示范田120亩，征集墒情监测、病虫害识别与变量施肥一体化解决方案，要求节水节肥两成以上并可在县域推广。",
        ("墒情监测", "病虫害识别", "变量施肥"),
        (
            (
                "小麦病虫害无人机巡检与变量施肥方案",
                "多光谱无人机巡田识别条锈病、蚜虫，生成处方图驱动变量施肥，示范田节肥22%。",
                ("无人机", "变量施肥"),
            ),
        ),
        600,
    ),
    (
        "智能交通",
        "F07",
        "410100",
        "郑东新区智能网联公交车路协同示范场景",
        "开放3条公交线路和12个路口，征集车路协同辅助驾驶与网联化运营管理解决方案，提升准点率和路口通行安全。",
        ("车路协同", "智能网联", "公交"),
        (
            (
                "公交车路协同辅助驾驶系统",
                "路侧感知单元与车载终端协同，提供盲区预警、绿波通行建议，支持公交优先信号。",
                ("车路协同", "路侧感知"),
            ),
        ),
        3000,
    ),
    (
        "智慧城市",
        "F15",
        "410200",
        "开封古城区城市运行一网统管场景",
        "开放古城区视频、井盖、消防栓等物联感知数据，征集城市事件智能发现与联动处置平台，要求保护古建风貌、部署在政务云。",
        ("城市运行", "事件发现", "物联感知"),
        (),
        0,
    ),
    (
        "智慧医疗",
        "F10",
        "410700",
        "新乡县域医共体影像云与AI辅助诊断场景",
        "县医院及14家乡镇卫生院开放影像数据接口，征集影像云平台与肺结节、骨折AI辅助诊断方案，要求通过医疗器械注册。",
        ("影像云", "辅助诊断", "医共体"),
        (
            (
                "县域影像云与肺结节AI辅助诊断",
                "云端PACS与肺结节检出模型，敏感度96%，已取得二类医疗器械注册证。",
                ("影像云", "肺结节"),
            ),
            (
                "基层骨折X光智能识别系统",
                "面向乡镇卫生院的骨折X光智能识别，支持离线部署和远程会诊。",
                ("骨折识别", "远程会诊"),
            ),
        ),
        3200,
    ),
    (
        "绿色低碳",
        "F13",
        "410300",
        "洛阳工业园区综合能源与碳排放监测场景",
        "开放园区12家重点用能企业的计量数据，征集能耗在线监测、碳排放核算与余热利用优化方案。",
        ("碳排放", "能耗监测", "余热利用"),
        (
            (
                "园区碳排放在线监测与核算平台",
                "对接电、气、热计量，按核算指南自动生成企业和园区碳排放报告，支持余热利用优化。",
                ("碳排放", "在线监测"),
            ),
        ),
        0,
    ),
    (
        "量子科技",
        "F16",
        "410100",
        "郑州政务外网量子保密通信试点场景",
        "开放市级政务外网两个节点，征集量子密钥分发与现网密码设备融合的试点方案，要求与国密算法兼容。",
        ("量子密钥分发", "保密通信", "国密"),
        (),
        0,
    ),
    (
        "智能制造",
        "F04",
        "410900",
        "濮阳铝加工车间设备预测性维护场景",
        "开放热轧机组振动、温度数据，征集关键设备故障预测与维护决策方案，要求非计划停机减少三成。",
        ("预测性维护", "故障诊断", "振动监测"),
        (),
        0,
    ),
    (
        "智能物流",
        "F12",
        "411100",
        "漯河冷链食品仓储温控追溯场景",
        "开放两座冷库和30辆冷链车，征集全程温湿度监测、异常预警与食品追溯方案。",
        ("冷链", "温度监测", "追溯"),
        (
            (
                "冷链全程温控与追溯系统",
                "低功耗温湿度标签与车载网关，异常实时预警，一物一码追溯到批次。",
                ("冷链", "追溯"),
            ),
        ),
        0,
    ),
)


def build_scenes(
    enterprises: list[tuple[str, str]], institutions: list[str], rng: random.Random
) -> list[dict[str, Any]]:
    """10 scenes across the documents' categories, most with solutions, five with pilot agreements;
    each scene's owner is an enterprise of the scene's city when there is one (the subsidy rule M4
    applies in its own jurisdiction only)."""
    scenes = []
    owners: list[str] = []
    for scene in _SCENES:
        local = [e for e, r in enterprises if r[:4] == scene[2][:4] and e not in owners]
        owners.append(rng.choice(local or [e for e, _ in enterprises if e not in owners]))
    everyone = institutions + [e for e, _ in enterprises]
    for n, (category, field, region, title, text, keywords, solutions, invest) in enumerate(_SCENES, start=1):
        providers = rng.sample([o for o in everyone if o != owners[n - 1]], len(solutions))
        sols = [
            {
                "external_id": f"FA{n:02d}{i + 1}",
                "org_external_id": providers[i],
                "title": s_title,
                "abstract": s_text,
                "field_code": field,
                "keywords": list(s_keywords),
                "maturity": rng.choice(("中试", "产业化")),
            }
            for i, (s_title, s_text, s_keywords) in enumerate(solutions)
        ]
        pilots = (
            [
                {
                    "provider_org_external_id": sols[0]["org_external_id"],
                    "solution_external_id": sols[0]["external_id"],
                    "title": f"{title.removesuffix('场景')}试点",
                    "investment": _money(Decimal(invest) * 10_000),
                    "signed_on": f"2026-{rng.randint(3, 9):02d}-{rng.randint(1, 28):02d}",
                }
            ]
            if invest and sols
            else []
        )
        scenes.append(
            {
                "external_id": f"CJ{n:02d}",
                "org_external_id": owners[n - 1],
                "title": title,
                "description": text,
                "category": category,
                "field_code": field,
                "region_code": region,
                "keywords": list(keywords),
                "published_on": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                "solutions": sols,
                "pilots": pilots,
            }
        )
    return scenes
