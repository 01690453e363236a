"""The route a CLI command takes when this server holds the store (cli.remote; the control file that
leads it here: admin_ops.write_control)."""

from __future__ import annotations

import asyncio
import hmac
import inspect
from typing import Any

import orjson
from fastapi import APIRouter, Request

from video_insights.admin_ops import OPERATIONS, OpContext
from video_insights.errors import BadRequest, Forbidden, NotFound
from video_insights.ingest.json_depth import check_depth
from video_insights.web.deps import read_body, services

router = APIRouter(include_in_schema=False)


@router.post("/_admin/ops/{name}")
async def run_operation(name: str, request: Request) -> dict[str, Any]:
    expected = getattr(request.app.state, "admin_token", None)
    given = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not expected or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()):
        raise Forbidden("admin operations are for the CLI on this machine")
    if name not in OPERATIONS:
        raise NotFound(f"no operation {name!r}")
    svc = services(request)
    body = await read_body(request, 1 << 30)
    check_depth(body, "body")
    try:
        kwargs = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as e:
        raise BadRequest(f"body: malformed JSON ({e})") from None
    if not isinstance(kwargs, dict):
        raise BadRequest("body: expected an object of arguments")
    if name == "demo":
        kwargs["progress"] = False  # nobody watches the server's stderr for this
    ctx = OpContext(svc.store, svc.settings, svc.pipeline)
    try:
        inspect.signature(OPERATIONS[name]).bind(ctx, **kwargs)
    except TypeError as e:
        raise BadRequest(f"{name}: {e}") from None
    return {"result": await asyncio.to_thread(OPERATIONS[name], ctx, **kwargs)}
