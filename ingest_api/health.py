"""Liveness and readiness: /healthz says the process runs, /readyz that it can do its job."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from domain.platform.migrations import current_revision
from ingest_api.deps import EngineDep
from ingest_api.errors import ApiError, error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database unreachable or migrations pending"}})
def readyz(request: Request, engine: EngineDep) -> JSONResponse:
    head = request.app.state.migration_head
    try:
        with engine.connect() as conn:
            conn.execute(sa.select(1))
            current = current_revision(conn)
    except sa.exc.SQLAlchemyError:
        return error_response(request, ApiError("database_unavailable"))
    if current != head:
        return error_response(request, ApiError("migrations_pending"))
    return JSONResponse({"status": "ready", "database": "ok", "migration": current})
