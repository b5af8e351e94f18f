"""Reference data shipped with the engine: the field taxonomy and the regions (no sign-in needed)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from data.reference import load_fields, load_regions

router = APIRouter(prefix="/reference", tags=["reference"])


class SubFieldRead(BaseModel):
    code: str
    name: str


class FieldRead(BaseModel):
    code: str
    name: str
    full_name: str
    tags: list[str]
    cross_cutting: bool
    subfields: list[SubFieldRead]


class RegionRead(BaseModel):
    code: str
    name: str
    short_name: str
    level: str
    parent: str | None


@router.get("/fields")
def list_fields() -> list[FieldRead]:
    """Technology fields (F01–F17, X) with their sub-fields."""
    return [
        FieldRead(
            code=f.code,
            name=f.name,
            full_name=f.full_name,
            tags=list(f.tags),
            cross_cutting=f.cross_cutting,
            subfields=[SubFieldRead(code=s.code, name=s.name) for s in f.subfields],
        )
        for f in load_fields()
    ]


@router.get("/regions")
def list_regions() -> list[RegionRead]:
    """Province, cities, counties and parks, parents first."""
    return [
        RegionRead(code=r.code, name=r.name, short_name=r.short_name, level=r.level, parent=r.parent)
        for r in load_regions()
    ]
