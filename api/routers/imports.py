"""Reading a bulk-import request: the format comes from ?format= or the Content-Type."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request

from services.errors import ServiceError
from services.imports import Format

ImportFormat = Annotated[
    Literal["jsonl", "csv"] | None, Query(description="overrides the Content-Type: jsonl or csv")
]

_MEDIA_TYPES: dict[str, Format] = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/jsonlines": "jsonl",
    "text/jsonl": "jsonl",
    "text/csv": "csv",
    "application/csv": "csv",
}

_ROWS_DOC = "one posting per JSON line (JSONL) or per CSV row (header row of field names; lists split by ';')"
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": _ROWS_DOC,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


class UnsupportedMediaTypeError(ServiceError):
    status = 415
    code = "unsupported_media_type"


def import_format(content_type: str | None, explicit: Format | None) -> Format:
    if explicit is not None:
        return explicit
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _MEDIA_TYPES:
        return _MEDIA_TYPES[media]
    raise UnsupportedMediaTypeError(
        f"send JSONL (application/x-ndjson) or CSV (text/csv), or say ?format=jsonl|csv; got {media or 'none'!r}"
    )


async def read_import(request: Request, explicit: Format | None) -> tuple[bytes, Format]:
    """The raw body (the size limit is enforced while it streams) and its format."""
    fmt = import_format(request.headers.get("content-type"), explicit)
    chunks = [chunk async for chunk in request.stream()]
    return b"".join(chunks), fmt
