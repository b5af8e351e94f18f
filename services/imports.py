"""Bulk import of needs or achievements from JSONL or CSV in one request.

Valid rows are stored through the same `insert_postings` as a single create (same checks, audit,
duplicate flags and index update), in chunks of CHUNK_ROWS rows per transaction so that a chunk shares
one encoding batch and one dense search; invalid rows are reported by line number with the reason. Re-sending a
file does not duplicate: a row whose external_id the organisation already stored is reported as
``skipped_duplicate``, and a request with an Idempotency-Key seen before replays the stored result.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from models import Achievement, ImportRecord, Need, Organization, Role
from models.schemas import AchievementCreate, NeedCreate
from services.actor import Actor
from services.errors import InvalidInputError, NotFoundError, PermissionDeniedError, ServiceError
from services.index import IndexService
from services.postings import ACHIEVEMENT_OWNER_KINDS, NEED_OWNER_KINDS, check_codes, insert_postings

Kind = Literal["need", "achievement"]
Format = Literal["jsonl", "csv"]
RowStatus = Literal["created", "skipped_duplicate", "invalid"]
LIST_FIELDS = frozenset({"keywords", "modes"})
_LIST_SEPARATORS = (";", "；", "|", "、")
MAX_ROWS = 20_000
CHUNK_ROWS = 256  # rows per transaction: one encoding batch and one dense search each


class RowOutcome(BaseModel):
    line: int
    status: RowStatus
    id: int | None = None
    external_id: str | None = None
    code: str | None = None
    message: str | None = None


class ImportResult(BaseModel):
    kind: Kind
    format: Format
    received: int
    created: int
    skipped_duplicate: int
    invalid: int
    replayed: bool = False
    rows: list[RowOutcome]


def import_postings(
    db: Engine,
    index: IndexService,
    actor: Actor,
    kind: Kind,
    payload: bytes,
    fmt: Format,
    *,
    idempotency_key: str | None = None,
    org_id: int | None = None,
) -> ImportResult:
    actor.require(Role.ENTERPRISE if kind == "need" else Role.INSTITUTION)
    owner = _owner(db, actor, kind, org_id)
    if idempotency_key:
        stored = _stored_result(db, owner, kind, idempotency_key)
        if stored is not None:
            return stored.model_copy(update={"replayed": True})
    outcomes: list[RowOutcome] = []
    valid: list[tuple[int, NeedCreate | AchievementCreate]] = []
    for line, row in parse_rows(payload, fmt):
        checked = _check_row(kind, line, row)
        if isinstance(checked, RowOutcome):
            outcomes.append(checked)
        else:
            valid.append((line, checked))
    for start in range(0, len(valid), CHUNK_ROWS):
        outcomes.extend(_store_chunk(db, index, actor, kind, owner, valid[start : start + CHUNK_ROWS]))
    outcomes.sort(key=lambda o: o.line)
    result = ImportResult(
        kind=kind,
        format=fmt,
        received=len(outcomes),
        created=sum(o.status == "created" for o in outcomes),
        skipped_duplicate=sum(o.status == "skipped_duplicate" for o in outcomes),
        invalid=sum(o.status == "invalid" for o in outcomes),
        rows=outcomes,
    )
    if idempotency_key:
        with session_scope(db) as session:
            session.add(
                ImportRecord(
                    org_id=owner,
                    idempotency_key=idempotency_key,
                    kind=kind,
                    result=result.model_dump(mode="json"),
                )
            )
    return result


def _owner(db: Engine, actor: Actor, kind: Kind, org_id: int | None) -> int:
    """The organisation the rows are for: an admin names it, everyone else imports for their own."""
    owner = org_id if actor.is_admin else actor.org_id
    if owner is None:
        raise InvalidInputError("name the organisation to import for (?org_id=)", code="org_required")
    if org_id is not None and org_id != owner:
        raise PermissionDeniedError("you can import only for your own organisation")
    with Session(db) as session:
        org = session.get(Organization, owner)
    if org is None:
        raise NotFoundError(f"organisation {owner} not found")
    if org.kind not in (NEED_OWNER_KINDS if kind == "need" else ACHIEVEMENT_OWNER_KINDS):
        raise PermissionDeniedError(f"an organisation of kind {org.kind.value!r} cannot post this")
    return owner


def _stored_result(db: Engine, org_id: int, kind: Kind, key: str) -> ImportResult | None:
    with Session(db) as session:
        record = session.exec(
            select(ImportRecord).where(
                ImportRecord.org_id == org_id, ImportRecord.kind == kind, ImportRecord.idempotency_key == key
            )
        ).first()
        return None if record is None else ImportResult.model_validate(record.result)


def _check_row(
    kind: Kind, line: int, row: dict[str, Any] | str
) -> RowOutcome | NeedCreate | AchievementCreate:
    """The row as a validated create request, or the reason it cannot be one."""
    if isinstance(row, str):
        return RowOutcome(line=line, status="invalid", code="unreadable_row", message=row)
    external_id = row.get("external_id") if isinstance(row.get("external_id"), str) else None
    try:
        data: NeedCreate | AchievementCreate = (
            NeedCreate.model_validate(row) if kind == "need" else AchievementCreate.model_validate(row)
        )
        check_codes(data.field_code, data.region_code)
    except ValidationError as exc:
        return RowOutcome(
            line=line,
            status="invalid",
            external_id=external_id,
            code="validation_error",
            message=_describe(exc),
        )
    except ServiceError as exc:
        return RowOutcome(
            line=line, status="invalid", external_id=external_id, code=exc.code, message=exc.message
        )
    return data


def _store_chunk(
    db: Engine,
    index: IndexService,
    actor: Actor,
    kind: Kind,
    owner: int,
    chunk: list[tuple[int, NeedCreate | AchievementCreate]],
) -> list[RowOutcome]:
    """Store one chunk of valid rows in one transaction; rows whose external_id the organisation
    already holds (stored, or earlier in this file) are skipped."""
    model: type[Need] | type[Achievement] = Need if kind == "need" else Achievement
    wanted = {data.external_id for _, data in chunk if data.external_id}
    with session_scope(db) as session:
        org = session.get(Organization, owner)
        assert org is not None  # checked by _owner
        stored = set(
            session.exec(
                select(model.external_id).where(model.org_id == owner, col(model.external_id).in_(wanted))
            ).all()
            if wanted
            else ()
        )
        outcomes, fresh = [], []
        for line, data in chunk:
            if data.external_id and data.external_id in stored:
                outcomes.append(
                    RowOutcome(line=line, status="skipped_duplicate", external_id=data.external_id)
                )
                continue
            if data.external_id:
                stored.add(data.external_id)
            fresh.append((line, data))
        rows = insert_postings(session, index, actor, org, [data for _, data in fresh])
        outcomes.extend(
            RowOutcome(line=line, status="created", id=row.id, external_id=data.external_id)
            for (line, data), row in zip(fresh, rows, strict=True)
        )
        return outcomes


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", "")))
    return "; ".join(parts)


# -- parsing ------------------------------------------------------------------------------------


def parse_rows(payload: bytes, fmt: Format) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs, all read before anything is stored; a row that cannot be read at
    all is given as its error message."""
    rows = list(_jsonl_rows(payload) if fmt == "jsonl" else _csv_rows(payload))
    if len(rows) > MAX_ROWS:
        raise InvalidInputError(f"at most {MAX_ROWS} rows per request, got {len(rows)}", code="too_many_rows")
    return rows


def _jsonl_rows(payload: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    payload = payload.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM (Windows editors), as CSV accepts
    for number, raw in enumerate(payload.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield number, "the line is not valid UTF-8"
            continue
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON: {exc.msg} at column {exc.colno}"
            continue
        yield number, value if isinstance(value, dict) else "each line must be a JSON object"


def _csv_rows(payload: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"the CSV file is not valid UTF-8 (byte {exc.start})", code="invalid_encoding"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        return
    try:
        for raw in reader:
            yield reader.line_num, _csv_row(raw)
    except csv.Error as exc:
        raise InvalidInputError(f"CSV line {reader.line_num}: {exc}", code="invalid_csv") from exc


def _csv_row(raw: dict[str | None, str | list[str] | None]) -> dict[str, Any] | str:
    if None in raw:
        return "the row has more cells than the header"
    row: dict[str, Any] = {}
    for name, value in raw.items():
        if name is None or value is None or isinstance(value, list) or value.strip() == "":
            continue
        key = name.strip()
        row[key] = _split_list(value) if key in LIST_FIELDS else value
    return row


def _split_list(value: str) -> list[str]:
    for sep in _LIST_SEPARATORS:
        value = value.replace(sep, ";")
    return [part.strip() for part in value.split(";") if part.strip()]
