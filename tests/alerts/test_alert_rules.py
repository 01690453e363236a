"""Alert rules through the API with the account's Basic auth (docs/alerts.md): made, listed, fetched
and deleted; every bad rule a 400 in the error shape naming what is wrong, including URLs whose host
is loopback, private or link-local on a deployment that does not allow them (the default)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import LiveServer, make_account
from support import Creds
from video_insights.alerts import urls
from video_insights.errors import BadRequest
from video_insights.store import Store

PUBLIC = "https://93.184.216.34/hooks/video"  # an address literal: no name to resolve
LOSS = {"type": "participant_issue", "issue_type": "packet_loss"}


@pytest.fixture
def store(duckdb_store: Store) -> Store:
    """Checking input reads no data: one engine is enough (delivery runs on each, test_alert_delivery)."""
    return duckdb_store


def _rule(**changes: Any) -> dict[str, Any]:
    return {"friendly_name": "on-call", "trigger": LOSS, "url": PUBLIC, "format": "json", **changes}


@pytest.mark.parametrize(("body", "names"), [
    (_rule(trigger={"type": "participant_issue", "issue_type": "loud_music"}), "unknown issue type 'loud_music'"),
    (_rule(trigger={**LOSS, "filters": {"colour__eq": "red"}}), "unknown field 'colour'"),
    (_rule(filters={"room_type__eq": "huge"}), "'huge' is not a room_type"),
    (_rule(filters={"room_type__like": "go"}), "unknown operator 'like'"),
    (_rule(url="ftp://example.org/x"), "only http and https"),
    (_rule(url="javascript:alert(1)"), "only http and https"),
    (_rule(url="http://127.0.0.1:8000/x"), "loopback"),
    (_rule(url="http://localhost/x"), "loopback"),
    (_rule(url="http://10.1.2.3/x"), "private"),
    (_rule(url="http://169.254.169.254/latest/meta-data"), "link-local"),
    (_rule(url="http://[::1]/x"), "loopback"),
    (_rule(url="http://[::ffff:127.0.0.1]/x"), "loopback"),
    (_rule(url="http://0.0.0.0/x"), "unspecified"),
    (_rule(url="http://user:pw@93.184.216.34/x"), "credentials"),
    (_rule(url="http://no-such-host.invalid/x"), "does not resolve"),
    (_rule(url=42), "expected an http or https URL"),
    (_rule(format="xml"), "format"),
    (_rule(trigger={"type": "rooms_with_issues_share", "threshold_pct": 120, "window_minutes": 15}), "threshold_pct"),
    (_rule(trigger={"type": "rooms_with_issues_share", "threshold_pct": 20}), "window_minutes: required"),
    (_rule(trigger={"type": "rooms_with_issues_share", "threshold_pct": 20, "window_minutes": 1.5}),
     "whole number"),
    (_rule(trigger={**LOSS, "cooldown_minutes": 5}), "unknown field(s) cooldown_minutes"),
    (_rule(trigger={"type": "everything"}), "trigger.type"),
    (_rule(friendly_name="x" * 300), "friendly_name"),
    (_rule(colour="red"), "unknown field(s) colour"),
    ([1, 2], "expected a JSON object"),
])
def test_bad_rules_are_400_naming_what_is_wrong(live_server: LiveServer, creds: Creds, body: Any, names: str
                                               ) -> None:
    with live_server.client(creds) as api:
        r = api.post("/v1/Video/AlertRules", json=body)
        assert r.status_code == 400, r.text
        assert set(r.json()) == {"code", "message", "more_info", "status"} and names in r.json()["message"]
        assert api.get("/v1/Video/AlertRules").json()["alert_rules"] == []


def test_malformed_and_deep_bodies_are_400(live_server: LiveServer, creds: Creds) -> None:
    with live_server.client(creds) as api:
        assert api.post("/v1/Video/AlertRules", content=b"{nope").status_code == 400
        assert api.post("/v1/Video/AlertRules", content=b"[" * 5000 + b"]" * 5000).status_code == 400
        assert api.get("/v1/Video/Alerts", params={"Outcome": "lost"}).status_code == 400
        assert api.get("/v1/Video/Alerts", params={"colour": "red"}).status_code == 400
        assert api.get("/v1/Video/AlertRules/ALnope").status_code == 404
        assert api.get("/v1/Video/Alerts/NO" + "0" * 32).status_code == 404
    assert live_server.client().get("/v1/Video/AlertRules").status_code == 401


def test_rules_are_made_listed_fetched_and_deleted_per_account(live_server: LiveServer, creds: Creds) -> None:
    hostile = '<script>alert("x")</script>'
    with live_server.client(creds) as api:
        r = api.post("/v1/Video/AlertRules",
                     json=_rule(friendly_name=hostile, filters={"room_type__in": ["go", "group"]}))
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["sid"].startswith("AL") and len(made["secret"]) >= 32 and made["friendly_name"] == hostile
        window = api.post("/v1/Video/AlertRules", json=_rule(trigger={
            "type": "rooms_with_issues_share", "threshold_pct": 20, "window_minutes": 15, "min_rooms": 5},
            format="slack")).json()
        assert window["trigger"] == {"type": "rooms_with_issues_share", "threshold_pct": 20.0, "window_minutes": 15,
                                     "min_rooms": 5, "cooldown_minutes": 15}
        listed = api.get("/v1/Video/AlertRules").json()["alert_rules"]
        assert [x["sid"] for x in listed] == [made["sid"], window["sid"]]
        assert all("secret" not in x for x in listed)  # shown once, when made
        fetched = api.get(f"/v1/Video/AlertRules/{made['sid']}").json()
        assert fetched["filters"] == {"room_type__in": ["go", "group"]} and fetched["url"] == PUBLIC
        other = make_account(live_server.store)
        with live_server.client(other) as theirs:
            assert theirs.get(f"/v1/Video/AlertRules/{made['sid']}").status_code == 404
            assert theirs.delete(f"/v1/Video/AlertRules/{made['sid']}").status_code == 404
            assert theirs.get("/v1/Video/AlertRules").json()["alert_rules"] == []
        assert api.delete(f"/v1/Video/AlertRules/{made['sid']}").status_code == 204
        assert api.get(f"/v1/Video/AlertRules/{made['sid']}").status_code == 404
        assert [x["sid"] for x in api.get("/v1/Video/AlertRules").json()["alert_rules"]] == [window["sid"]]


def test_the_guard_checks_every_address_a_name_resolves_to() -> None:
    assert urls.forbidden("8.8.8.8") is None
    for address, why in (("127.0.0.2", "loopback"), ("192.168.1.1", "private"), ("fe80::1", "link-local"),
                         ("224.0.0.1", "multicast"), ("100.64.0.1", "not globally reachable"),
                         ("::ffff:10.0.0.1", "private")):
        assert urls.forbidden(address) == why, address
    with pytest.raises(BadRequest, match="loopback"):
        urls.resolve("http://localhost:9/", allow_private=False)
    assert urls.resolve("http://localhost:9/a?b=1", allow_private=True).path == "/a?b=1"
