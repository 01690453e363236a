"""A webhook answers 2xx once its event is committed (docs/durability.md): a summary that fails after
the commit is no reason to answer 500, which would only make Twilio send it again. The room stays
due, and a later round summarises it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import LiveServer
from support import Creds, twilio_sign
from video_insights.model.ids import new_sid
from video_insights.query.sql import q


def test_a_webhook_whose_summary_fails_answers_200(live_server: LiveServer, creds: Creds,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    summarizer = live_server.app.state.services.pipeline.summarizer  # type: ignore[attr-defined]
    real = summarizer.summarize
    failures: list[str] = []

    def fails_once(*args: Any, **kwargs: Any) -> int:
        if not failures:
            failures.append("once")
            raise RuntimeError("the store hiccupped")
        return int(real(*args, **kwargs))

    monkeypatch.setattr(summarizer, "summarize", fails_once)
    room = new_sid("RM")
    target = f"{live_server.url}/webhooks/twilio"
    params = {"AccountSid": creds.account_sid, "RoomSid": room, "RoomName": "standup", "RoomType": "group",
              "StatusCallbackEvent": "room-created", "Timestamp": "2026-12-07T10:00:00Z"}
    r = httpx.post(target, data=params, headers={"X-Twilio-Signature": twilio_sign(creds.auth_token, target, params)})
    assert r.status_code == 200, r.text
    assert failures == ["once"]
    _, rows = live_server.store.fetch(q("SELECT count(*) FROM events WHERE room_sid = :r", r=room))
    assert rows == [(1,)]

    live_server.flush()
    _, rows = live_server.store.fetch(q("SELECT room_name, room_status FROM rooms WHERE room_sid = :r", r=room))
    assert rows == [("standup", "in_progress")]
