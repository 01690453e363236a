"""The alerts page: the account's alert rules (made with a form, deleted with a button) and the history
of what they fired (docs/alerts.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from video_insights.alerts import outbox, rules
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest
from video_insights.model.issues import CATALOG
from video_insights.model.labels import issue_title
from video_insights.web.deps import services, sid_param
from video_insights.web.pages import csrf
from video_insights.web.pages.render import render
from video_insights.web.pages.room import no_params_but
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)
HISTORY = 50


def describe(rule: rules.Rule) -> str:
    t = rule.trigger
    if rule.type == rules.PARTICIPANT_ISSUE:
        text = f"A participant is first tagged with {issue_title(t['issue_type']).lower()} ({t['issue_type']})"
    else:
        text = (f"{t['threshold_pct']:g} % or more of the rooms of the last {t['window_minutes']} minutes have issues "
                f"(at least {t['min_rooms']} rooms; quiet for {t['cooldown_minutes']} minutes after)")
    filters = t.get("filters")
    if filters:
        text += "; rooms where " + ", ".join(f"{k} = {v}" for k, v in filters.items())
    return text


def _page(request: Request, scope: Scope, *, error: str | None = None, made: rules.Rule | None = None,
          form: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    store = services(request).store
    found = rules.list_rules(store, scope.account_sid)
    every = {r.sid: r for r in rules.list_rules(store, scope.account_sid, deleted=True)}
    history = []
    for row in outbox.history(store, scope.account_sid, limit=HISTORY):
        attempts = outbox.alert_json(row, "")["attempts"]
        last = attempts[-1] if attempts else None
        rule = every.get(row["rule_sid"])
        history.append({"row": row, "rule": rule.friendly_name or rule.sid if rule else row["rule_sid"],
                        "attempts": len(attempts),
                        "last": (str(last["status_code"]) if last and last["status_code"] is not None
                                 else (last["error"] if last else "—"))})
    return render(request, "alerts.html", {
        "title": "Alerts", "rules": [(r, describe(r)) for r in found], "history": history, "error": error,
        "made": made, "form": form or {}, "issue_types": list(CATALOG.values()), "formats": rules.FORMATS,
    }, status_code=status)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, scope: Scope = Depends(page_scope)) -> HTMLResponse:
    no_params_but(request)
    return _page(request, scope)


def _filters(text: str) -> dict[str, str] | None:
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise BadRequest(f"filters: expected FIELD__OP=VALUE on each line, got {line.strip()!r}")
        out[name.strip()] = value.strip()
    return out or None


def _number(raw: str, name: str) -> float | int:
    try:
        n = float(raw)
    except ValueError:
        raise BadRequest(f"{name}: expected a number, got {raw!r}") from None
    return int(n) if n.is_integer() else n


def rule_body(form: dict[str, str]) -> dict[str, Any]:
    """The rule a console form describes, as the API takes it (which checks it)."""
    kind = form.get("trigger_type", "")
    trigger: dict[str, Any] = {"type": kind}
    if kind == rules.PARTICIPANT_ISSUE:
        trigger["issue_type"] = form.get("issue_type", "")
    elif kind == rules.ROOMS_SHARE:
        for key in ("threshold_pct", "window_minutes", "min_rooms", "cooldown_minutes"):
            if form.get(key, "").strip():
                trigger[key] = _number(form[key].strip(), key)
    body: dict[str, Any] = {"friendly_name": form.get("friendly_name", ""), "trigger": trigger,
                            "url": form.get("url", "").strip(), "format": form.get("format", "json")}
    filters = _filters(form.get("filters", ""))
    if filters:
        body["filters"] = filters
    return body


@router.post("/alerts", response_class=HTMLResponse)
def create_rule(request: Request, scope: Scope = Depends(page_scope), friendly_name: str = Form(""),
                trigger_type: str = Form(""), issue_type: str = Form(""), threshold_pct: str = Form(""),
                window_minutes: str = Form(""), min_rooms: str = Form(""), cooldown_minutes: str = Form(""),
                filters: str = Form(""), url: str = Form(""), format: str = Form("json"),
                csrf_token: str = Form("", alias=csrf.FIELD)) -> HTMLResponse:
    csrf.check(request, csrf_token)
    form = {"friendly_name": friendly_name, "trigger_type": trigger_type, "issue_type": issue_type,
            "threshold_pct": threshold_pct, "window_minutes": window_minutes, "min_rooms": min_rooms,
            "cooldown_minutes": cooldown_minutes, "filters": filters, "url": url, "format": format}
    svc = services(request)
    try:
        rule = rules.create(svc.store, rules.parse_rule(rule_body(form), scope.account_sid,
                                                        allow_private=svc.settings.alerts_allow_private_urls))
    except BadRequest as e:
        return _page(request, scope, error=e.message, form=form, status=400)
    svc.pipeline.watch([rule], add=True)  # from now, not from the worker's next look
    # The secret is shown in this answer, once: never in a URL a redirect would carry.
    return _page(request, scope, made=rule, status=201)


@router.post("/alerts/{sid}/delete")
def delete_rule(sid: str, request: Request, scope: Scope = Depends(page_scope),
                csrf_token: str = Form("", alias=csrf.FIELD)) -> Response:
    csrf.check(request, csrf_token)
    rules.delete(services(request).store, scope.account_sid, sid_param(sid, rules.RULE_PREFIX, "alert rule"))
    return RedirectResponse("/alerts", status_code=303)
