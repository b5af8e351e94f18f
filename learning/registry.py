"""The model registry: every trained version with its evaluation table; one promoted default per kind.

Promotion is by measurement only (`promotion_verdict`): a candidate replaces the current default when
its table, measured against that default, shows a gain of the fused engine on the held-back split and
no significant loss (95% interval of the paired difference below zero) of the fused engine on any
shared set. `rollback` returns to the previous default. The file is small JSON, replaced atomically.

The service follows the registry through the encoder name ``model:default`` (the promoted encoder, or
the base when none is) or ``model:<version>``; the stored engine version then names the exact weights.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from learning.compare import FUSED, ComparisonRow

REGISTRY_FILE = "registry.json"
DEFAULT_BASE = "e5-small-st"
HELD_BACK_MARK = "held back"


class RegistryError(ValueError):
    """A version is unknown, already registered, or may not be promoted; the message says why."""


def default_registry_dir(cache_dir: Path | None = None) -> Path:
    """``<cache_dir>/registry`` (the techmatch model cache), or ``~/.cache/techmatch/registry``."""
    root = Path(cache_dir) if cache_dir is not None else Path.home() / ".cache" / "techmatch"
    return root.expanduser() / "registry"


@dataclass(frozen=True)
class Verdict:
    """Whether a candidate may become the default, and the reasons (in Chinese, for people)."""

    promote: bool
    reasons: list[str]


def promotion_verdict(rows: list[ComparisonRow]) -> Verdict:
    """Gain on held-back data, no significant loss on any shared set (fused engine, nDCG@10)."""
    fused = [r for r in rows if r.system == FUSED]
    held = [r for r in fused if HELD_BACK_MARK in r.set_label]
    shared = [r for r in fused if HELD_BACK_MARK not in r.set_label]
    reasons: list[str] = []
    if not held:
        reasons.append("没有留出集（held back）上的评测，不能晋升")
    elif sum(r.delta for r in held) / len(held) <= 0:
        reasons.append(
            "留出集上未胜过当前默认模型：" + "，".join(f"{r.set_label} Δ={r.delta:+.4f}" for r in held)
        )
    if not shared:
        reasons.append("没有共享评测集上的评测，不能确认其他集合不下降")
    for r in shared:
        if r.significant_loss:
            reasons.append(
                f"{r.set_label} 显著下降：Δ={r.delta:+.4f} [{r.delta_ci[0]:+.3f}, {r.delta_ci[1]:+.3f}]"
            )
    return Verdict(promote=not reasons, reasons=reasons)


class ModelRegistry:
    """Versions of each kind of model (``encoder``, ``ranker``) in one JSON file under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        self.path = self.root / REGISTRY_FILE

    def _read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"versions": {}, "history": {}}
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".registry-", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
        os.replace(tmp, self.path)

    def versions(self, kind: str | None = None) -> dict[str, dict[str, Any]]:
        """Registered versions (name -> record), optionally of one kind."""
        versions: dict[str, dict[str, Any]] = self._read()["versions"]
        return {n: v for n, v in versions.items() if kind is None or v["kind"] == kind}

    def get(self, name: str) -> dict[str, Any]:
        record = self.versions().get(name)
        if record is None:
            raise RegistryError(f"模型版本 {name!r} 未登记")
        return record

    def current(self, kind: str) -> str | None:
        """The promoted version of a kind, or None (the built-in base is the default)."""
        history: list[str] = self._read()["history"].get(kind, [])
        return history[-1] if history else None

    def register(
        self,
        name: str,
        kind: str,
        path: Path,
        *,
        base: str,
        evaluation: list[ComparisonRow],
        info: dict[str, Any],
    ) -> dict[str, Any]:
        """Add a version with its table (measured against ``base``); names are never reused."""
        data = self._read()
        if name in data["versions"]:
            raise RegistryError(f"模型版本 {name!r} 已登记")
        record = {
            "name": name,
            "kind": kind,
            "path": str(Path(path).expanduser().resolve()),
            "base": base,
            "evaluation": [r.to_dict() for r in evaluation],
            "info": info,
            "registered_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        data["versions"][name] = record
        self._write(data)
        return record

    def default_name(self, kind: str) -> str:
        """What the current default is called in tables: a version name or the built-in base."""
        return self.current(kind) or DEFAULT_BASE

    def promote(self, name: str) -> Verdict:
        """Make ``name`` the default of its kind if its table, measured against the current default, allows."""
        data = self._read()
        record = data["versions"].get(name)
        if record is None:
            raise RegistryError(f"模型版本 {name!r} 未登记")
        kind = record["kind"]
        current = self.default_name(kind)
        if name == current:
            raise RegistryError(f"{name!r} 已是默认模型")
        if record["base"] != current:
            raise RegistryError(
                f"{name!r} 的评测是对 {record['base']!r} 做的，而当前默认是 {current!r}：请先对当前默认重新评测"
            )
        verdict = promotion_verdict([ComparisonRow.from_dict(r) for r in record["evaluation"]])
        if verdict.promote:
            data["history"].setdefault(kind, []).append(name)
            self._write(data)
        return verdict

    def rollback(self, kind: str) -> str:
        """Return to the previous default of ``kind``; returns the name now in force."""
        data = self._read()
        history: list[str] = data["history"].get(kind, [])
        if not history:
            raise RegistryError(f"没有可回退的 {kind} 晋升记录")
        history.pop()
        self._write(data)
        return history[-1] if history else DEFAULT_BASE

    def resolve_encoder(self, name: str) -> str:
        """``default`` or a version name -> an encoder name `create_encoder` accepts."""
        version = self.current("encoder") if name == "default" else name
        if version is None:
            return DEFAULT_BASE
        record = self.get(version)
        if record["kind"] != "encoder":
            raise RegistryError(f"{version!r} 不是编码器")
        return f"st:{record['path']}"
