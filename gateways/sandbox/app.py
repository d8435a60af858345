"""The sandbox HTTP app: PhonePe under /phonepe, RazorpayX under /razorpayx, admin under /sandbox.

Gateway endpoints answer in their gateway's wire format, including errors; the admin endpoints are
for the demo and tests only (no authentication: bind the sandbox to loopback).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from domain.platform.database import SANDBOX_DATABASE, create_engine, database_url
from domain.platform.settings import Settings
from gateways.sandbox.config import FaultConfig, SandboxConfig
from gateways.sandbox.errors import SandboxError
from gateways.sandbox.faults import FaultInjector, FaultMiddleware
from gateways.sandbox.phonepe import PhonePe
from gateways.sandbox.razorpayx import RazorpayX
from gateways.sandbox.service import Sandbox


def _error_response(path: str, error: SandboxError) -> JSONResponse:
    body: dict[str, Any]
    if path.startswith("/razorpayx"):
        body = {
            "error": {
                "code": error.code,
                "description": error.message,
                "reason": "input_validation_failed" if error.status == 400 else None,
                "source": "business",
                "step": "payout_initiation",
                "field": error.field,
                "metadata": {},
            }
        }
    elif path.startswith("/phonepe"):
        body = {"success": False, "code": error.code, "message": error.message}
    else:
        body = {"error": {"code": error.code, "message": error.message}}
    return JSONResponse(body, status_code=error.status)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise SandboxError(400, "BAD_REQUEST_ERROR", "The request body is not valid JSON") from None


def _phonepe_router(phonepe: PhonePe) -> APIRouter:
    router = APIRouter(prefix="/phonepe")

    async def authorized(request: Request) -> None:
        phonepe.check_token(request.headers.get("authorization"))

    @router.post("/v1/oauth/token")
    async def oauth_token(request: Request) -> dict[str, Any]:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        return phonepe.issue_token(form)

    @router.get("/checkout/v2/order/{merchant_order_id}/status")
    async def order_status(merchant_order_id: str, request: Request) -> dict[str, Any]:
        await authorized(request)
        return await run_in_threadpool(phonepe.order_status, merchant_order_id)

    @router.post("/payments/v2/refund")
    async def create_refund(request: Request) -> dict[str, Any]:
        await authorized(request)
        return await run_in_threadpool(phonepe.create_refund, await _json_body(request))

    @router.get("/payments/v2/refund/{merchant_refund_id}/status")
    async def refund_status(merchant_refund_id: str, request: Request) -> dict[str, Any]:
        await authorized(request)
        return await run_in_threadpool(phonepe.refund_status, merchant_refund_id)

    @router.get("/v1/reports/settlement")
    async def settlement_report(
        request: Request, date: str = Query(pattern=r"^\d{4}-\d{2}-\d{2}$")
    ) -> PlainTextResponse:
        await authorized(request)
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise SandboxError(400, "BAD_REQUEST", "date must be YYYY-MM-DD") from None
        csv_text = await run_in_threadpool(phonepe.settlement_report, day)
        return PlainTextResponse(
            csv_text,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="settlement_{day}.csv"'},
        )

    return router


def _razorpayx_router(razorpayx: RazorpayX) -> APIRouter:
    router = APIRouter(prefix="/razorpayx")

    def authorized(request: Request) -> None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            key_id, _, key_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            key_id, key_secret = "", ""
        if scheme.lower() != "basic":
            key_id, key_secret = "", ""
        razorpayx.check_basic_auth(key_id, key_secret)

    @router.post("/v1/payouts")
    async def create_payout(request: Request) -> dict[str, Any]:
        authorized(request)
        body = await _json_body(request)
        key = request.headers.get("x-payout-idempotency")
        return await run_in_threadpool(razorpayx.create_payout, key, body)

    @router.get("/v1/payouts/{payout_id}")
    async def fetch_payout(payout_id: str, request: Request) -> dict[str, Any]:
        authorized(request)
        return await run_in_threadpool(razorpayx.fetch_payout, payout_id)

    @router.get("/v1/payouts")
    async def list_payouts(
        request: Request,
        reference_id: str | None = None,
        count: int = Query(default=10, ge=1, le=100),
        skip: int = Query(default=0, ge=0),
    ) -> dict[str, Any]:
        authorized(request)
        return await run_in_threadpool(razorpayx.list_payouts, reference_id, count, skip)

    @router.get("/v1/transactions")
    async def list_transactions(
        request: Request,
        account_number: str | None = None,
        from_s: int | None = Query(default=None, alias="from", ge=0),
        to_s: int | None = Query(default=None, alias="to", ge=0),
        count: int = Query(default=10, ge=1, le=100),
        skip: int = Query(default=0, ge=0),
    ) -> dict[str, Any]:
        authorized(request)
        return await run_in_threadpool(razorpayx.list_transactions, account_number, (from_s, to_s), count, skip)

    return router


class SimulatedPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchantOrderId: str = Field(pattern=r"^[A-Za-z0-9_-]{1,63}$")
    amount: int = Field(ge=100)
    outcome: Literal["COMPLETED", "FAILED", "PENDING"]
    paymentMode: str | None = Field(default=None, max_length=32)
    payer: str | None = Field(default=None, max_length=64)
    paidAtMs: int | None = Field(default=None, ge=0)


def _admin_router(sandbox: Sandbox, injector: FaultInjector) -> APIRouter:
    router = APIRouter(prefix="/sandbox", tags=["sandbox admin"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.post("/payments")
    async def simulate_payment(payment: SimulatedPayment) -> dict[str, Any]:
        return await run_in_threadpool(sandbox.phonepe.simulate_payment, payment.model_dump())

    @router.get("/faults")
    async def get_faults() -> FaultConfig:
        return injector.config

    @router.put("/faults")
    async def put_faults(config: FaultConfig) -> FaultConfig:
        injector.configure(config)
        return injector.config

    @router.get("/config")
    async def get_config() -> SandboxConfig:
        return sandbox.config

    @router.put("/config")
    async def put_config(request: Request) -> SandboxConfig:
        """Fields given replace the current values; fields left out keep theirs."""
        changes = await _json_body(request)
        if not isinstance(changes, dict):
            raise SandboxError(400, "BAD_REQUEST", "body must be a JSON object")
        try:
            return sandbox.update_config(changes)
        except ValueError as exc:
            raise SandboxError(422, "INVALID_CONFIG", str(exc)) from None

    @router.get("/payouts")
    async def payouts() -> list[dict[str, Any]]:
        return await run_in_threadpool(sandbox.razorpayx.witness)

    @router.get("/refunds")
    async def refunds() -> list[dict[str, Any]]:
        return await run_in_threadpool(sandbox.phonepe.refunds)

    @router.get("/webhooks")
    async def webhooks() -> list[dict[str, Any]]:
        return await run_in_threadpool(sandbox.outbox.view)

    @router.post("/webhooks/flush")
    async def flush(timeout_s: float = Query(default=10.0, gt=0, le=120)) -> JSONResponse:
        idle = await run_in_threadpool(sandbox.worker.wait_idle, timeout_s)
        pending = await run_in_threadpool(sandbox.worker.pending_work)
        return JSONResponse({"idle": idle, "pending": pending}, status_code=200 if idle else 504)

    @router.post("/reset")
    async def reset() -> dict[str, str]:
        await run_in_threadpool(sandbox.reset)
        injector.configure(injector.initial)
        return {"status": "reset"}

    return router


def create_app(
    settings: Settings,
    *,
    db_url: str | None = None,
    config: SandboxConfig | None = None,
    faults: FaultConfig | None = None,
) -> FaultMiddleware:
    """The sandbox as an ASGI app (the fault middleware wrapping FastAPI); state in its own database."""
    url = db_url or database_url(settings, SANDBOX_DATABASE)
    engine = create_engine(url, pool_size=10, max_overflow=10)
    if config is None:
        base = settings.api_public_url.rstrip("/")
        config = SandboxConfig(
            phonepe_webhook_url=f"{base}/v1/webhooks/phonepe", razorpayx_webhook_url=f"{base}/v1/webhooks/razorpayx"
        )
    sandbox = Sandbox(settings, engine, config)
    injector = FaultInjector(faults)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(sandbox.start)
        try:
            yield
        finally:
            await run_in_threadpool(sandbox.stop)
            engine.dispose()

    app = FastAPI(title="Gateway sandbox (PhonePe + RazorpayX)", version="1.0.0", lifespan=lifespan)
    app.state.sandbox = sandbox
    app.state.injector = injector

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        return _error_response(request.url.path, exc)

    app.include_router(_phonepe_router(sandbox.phonepe))
    app.include_router(_razorpayx_router(sandbox.razorpayx))
    app.include_router(_admin_router(sandbox, injector))
    return FaultMiddleware(app, injector)
