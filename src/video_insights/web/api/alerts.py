"""Alert rules and the alerts they fired (our extension to the Twilio API; docs/alerts.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from video_insights.alerts import outbox, rules
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest, NotFound
from video_insights.ingest.json_depth import check_depth
from video_insights.web.api.twilio_compat import _meta, _page
from video_insights.web.deps import base_url, read_body, scope, services, sid_param

router = APIRouter(tags=["Alerts (extension)"])
STATES = (outbox.PENDING, outbox.DELIVERED, outbox.FAILED, outbox.CANCELLED)


def _only(request: Request, allowed: tuple[str, ...]) -> None:
    for key in request.query_params:
        if key not in allowed:
            raise BadRequest(f"{key}: unknown parameter (this endpoint takes {', '.join(allowed) or 'none'})")


@router.post("/v1/Video/AlertRules", status_code=201, summary="Create an alert rule")
async def create_rule(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    _only(request, ("AccountSid",))
    svc = services(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    check_depth(raw, "body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadRequest(f"body: malformed JSON ({e})") from None
    # Resolving the URL's host blocks: off the event loop.
    rule = await asyncio.to_thread(rules.parse_rule, body, sc.account_sid,
                                   allow_private=svc.settings.alerts_allow_private_urls)
    await asyncio.to_thread(rules.create, svc.store, rule)
    svc.pipeline.watch([rule], add=True)  # from now, not from the worker's next look
    return rule.to_json(base_url(request), with_secret=True)


@router.get("/v1/Video/AlertRules", summary="List alert rules")
def list_rules(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    _only(request, ("AccountSid",))
    found = rules.list_rules(services(request).store, sc.account_sid)
    base = base_url(request)
    return {"alert_rules": [r.to_json(base) for r in found], "meta": _meta(request, "alert_rules", 0, rules.MAX_RULES,
                                                                           False)}


@router.get("/v1/Video/AlertRules/{sid}", summary="Fetch an alert rule")
def get_rule(sid: str, request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    _only(request, ("AccountSid",))
    rule = rules.get(services(request).store, sc.account_sid, sid_param(sid, rules.RULE_PREFIX, "alert rule"))
    return rule.to_json(base_url(request))


@router.delete("/v1/Video/AlertRules/{sid}", status_code=204, summary="Delete an alert rule")
def delete_rule(sid: str, request: Request, sc: Scope = Depends(scope)) -> Response:
    _only(request, ("AccountSid",))
    rules.delete(services(request).store, sc.account_sid, sid_param(sid, rules.RULE_PREFIX, "alert rule"))
    return Response(status_code=204)


@router.get("/v1/Video/Alerts", summary="Alerts fired, with each delivery's attempts and outcome")
def list_alerts(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    _only(request, ("AccountSid", "RuleSid", "Outcome", "PageSize", "Page", "PageToken"))
    params = request.query_params
    rule = params.get("RuleSid")
    if rule is not None:
        rule = sid_param(rule, rules.RULE_PREFIX, "alert rule")
    state = params.get("Outcome")
    if state is not None and state not in STATES:
        raise BadRequest(f"Outcome: expected one of {', '.join(STATES)}, got {state!r}")
    page, size = _page(request)
    rows = outbox.history(services(request).store, sc.account_sid, rule_sid=rule, state=state, limit=size + 1,
                          page=page)
    base = base_url(request)
    return {"alerts": [outbox.alert_json(r, base) for r in rows[:size]],
            "meta": _meta(request, "alerts", page, size, len(rows) > size)}


@router.get("/v1/Video/Alerts/{sid}", summary="Fetch an alert")
def get_alert(sid: str, request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    _only(request, ("AccountSid",))
    found = outbox.by_sid(services(request).store, sc.account_sid, [sid_param(sid, outbox.ALERT_PREFIX, "alert")])
    if not found:
        raise NotFound(f"alert {sid} not found")
    return outbox.alert_json(next(iter(found.values())), base_url(request))
