"""Shared fixtures for matcher tests: the hashing encoder and a small synthetic bilingual corpus."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from matcher.config import EngineConfig
from matcher.encoders.hashing import HashingEncoder
from matcher.engine import MatchEngine
from matcher.postings import Posting, Side

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"

TOPICS: list[tuple[str, str]] = [
    ("锂电池故障诊断", "储能电站锂电池组的健康状态评估与故障诊断，基于电压电流数据的深度学习模型。"),
    ("光伏组件清洗", "光伏电站组件表面灰尘自动清洗机器人，节水、无人值守、适用于沙漠地区。"),
    ("玉米高产栽培", "玉米密植高产栽培技术，配套水肥一体化与病虫害绿色防控，提高单产。"),
    ("污水生物处理", "高氨氮工业污水的厌氧氨氧化生物脱氮工艺，降低曝气能耗与运行成本。"),
    ("数控机床误差补偿", "五轴数控机床几何误差与热误差的在线测量和实时补偿系统，提高加工精度。"),
    ("中药提取工艺", "中药材有效成分的超临界二氧化碳萃取工艺，提高提取率并减少溶剂残留。"),
    ("煤矿瓦斯监测", "煤矿井下瓦斯浓度分布式光纤传感监测与预警平台，保障安全生产。"),
    ("新能源汽车电机", "永磁同步电机的高效控制算法与驱动器设计，用于新能源汽车动力系统。"),
]


def make_posting(side: Side, pid: int, topic: int, variant: int, **attrs: object) -> Posting:
    """A posting about TOPICS[topic]; ``variant`` changes the wording a little."""
    name, body = TOPICS[topic]
    prefix = "需求：" if side is Side.NEED else "成果："
    extra = ["企业急需。", "已有样机。", "寻求合作。", "效果显著。"][variant % 4]
    return Posting(id=pid, side=side, title=f"{prefix}{name}", body=body + extra, **attrs)  # type: ignore[arg-type]


@pytest.fixture
def posting_maker() -> Callable[..., Posting]:
    """`make_posting` as a fixture (test modules here are not a package, so they cannot import it)."""
    return make_posting


@pytest.fixture
def n_topics() -> int:
    return len(TOPICS)


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240521)


@pytest.fixture
def corpus() -> list[Posting]:
    """Three achievements and one need per topic with varied attributes."""
    postings: list[Posting] = []
    for topic in range(len(TOPICS)):
        for variant in range(3):
            pid = topic * 10 + variant
            postings.append(
                make_posting(
                    Side.ACHIEVEMENT,
                    pid,
                    topic,
                    variant,
                    asking_price=Decimal(100_000 * (variant + 1)),
                    maturity=3 + 2 * variant,
                    region_code=["410100", "110000", "320100"][variant],
                    org_id=1000 + variant,
                    field_code=f"{topic + 1:02d}",
                    modes=frozenset({["转让", "许可", "合作开发"][variant]}),
                )
            )
        postings.append(
            make_posting(
                Side.NEED,
                topic * 10,
                topic,
                topic,
                budget_max=Decimal(250_000),
                maturity=5,
                region_code="410100",
                org_id=2000 + topic,
                field_code=f"{topic + 1:02d}",
                modes=frozenset({"转让", "许可"}),
            )
        )
    return postings


@pytest.fixture
def engine_factory(encoder: HashingEncoder, corpus: list[Posting]) -> Callable[..., MatchEngine]:
    def build(**config: object) -> MatchEngine:
        engine = MatchEngine(encoder, EngineConfig(**config))  # type: ignore[arg-type]
        engine.upsert(corpus)
        return engine

    return build
