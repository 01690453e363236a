"""The participant summary page (`/rooms/{RoomSid}/participants/{ParticipantSid}`) with its quality graphs.

The graphs' data is `participant_metrics` (what `/Metrics` answers), reshaped into columns and embedded
in the page, so the first render needs no second request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from video_insights.analytics.live_board import thresholds_of
from video_insights.analytics.metrics import participant_metrics
from video_insights.analytics.rooms import Scope, participant_json
from video_insights.errors import BadRequest
from video_insights.model.labels import track_name
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.web.deps import base_url, services, sid_param
from video_insights.web.pages.render import render
from video_insights.web.pages.room import details_of, issue_rows, issue_titles, no_params_but, viewed_room
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)

TABS = ("send", "receive")
SEND_FIELDS = ("bitrate_bps", "packet_loss_pct", "rtt_ms")
# Shown in the bitrate tooltip of a video track: what the encoder was producing at that bitrate.
VIDEO_FIELDS = ("frame_rate", "frame_width", "frame_height", "quality_limitation_reason")
RECEIVE_FIELDS = ("bitrate_bps", "packet_loss_pct", "jitter_ms", "freeze_count", "freezes_duration_s",
                  "concealment_pct")


def _ms(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time).timestamp() * 1000)


def columns(points: list[dict[str, Any]], fields: tuple[str, ...], interval_ms: int) -> dict[str, list[Any]]:
    """Points → one list per field plus `t` (epoch ms). Where intervals are missing a null point is
    inserted, so the line breaks there instead of drawing a straight line over time nobody measured."""
    out: dict[str, list[Any]] = {"t": [], **{f: [] for f in fields}}
    previous: int | None = None
    for p in points:
        t = _ms(p["time"])
        if previous is not None and t - previous > interval_ms:
            out["t"].append(previous + interval_ms)
            for f in fields:
                out[f].append(None)
        out["t"].append(t)
        for f in fields:
            out[f].append(p.get(f))
        previous = t
    return out


def _track_label(kind: str | None, name: str | None, codec: str | None) -> str:
    # The kind has its own chip beside the label: the label is the app's name for the track and codec.
    parts = [track_name(name, kind), codec or ""]
    return " · ".join(p for p in parts if p)


def _incoming(entry: dict[str, Any], interval_ms: int) -> dict[str, Any]:
    """A received track's panel, named by who sent it; without a sender (docs/receive.md says which
    sources tell) by its kind and the receiver's track id, and the heading says the sender is unknown."""
    kind, sender = entry.get("kind"), entry.get("sender")
    if sender:
        who = sender["participant_identity"] or sender["participant_sid"]
        label = f"{who} · {_track_label(kind, sender['track_name'], entry.get('codec'))}"
    else:
        who = None
        label = _track_label(kind, f"{kind or 'media'} track {entry['track_id']}" if entry.get("track_id") else None,
                             entry.get("codec"))
    return {"id": entry["track_sid"], "kind": kind, "label": label, "sender": who,
            "sender_sid": sender["participant_sid"] if sender else None,
            "series": columns(entry["points"], RECEIVE_FIELDS, interval_ms)}


def graph_data(metrics: dict[str, Any], tracks: list[dict[str, Any]], participant: dict[str, Any],
               thresholds: dict[str, float | None]) -> dict[str, Any]:
    """What the page's script draws: one panel per published track (every track the participant
    published, measured or not), one per incoming track (grouped by sender, audio first), the
    thresholds, and a time range shared by every graph."""
    interval_ms = int(metrics["interval_sec"]) * 1000
    measured = {s["track_sid"]: s for s in metrics["send"]}
    known = {t["track_sid"]: t for t in tracks}
    send = []
    for sid in [*known, *(s for s in measured if s not in known)]:
        info, m = known.get(sid, {}), measured.get(sid)
        kind = info.get("kind") or (m or {}).get("kind")
        fields = SEND_FIELDS + (VIDEO_FIELDS if kind == "video" else ())
        send.append({
            "id": sid, "kind": kind, "label": _track_label(kind, info.get("name") or (m or {}).get("name"),
                                                           info.get("codec") or (m or {}).get("codec")),
            "series": columns(m["points"], fields, interval_ms) if m else None})
    receive = sorted((_incoming(r, interval_ms) for r in metrics.get("receive_tracks", [])),
                     key=lambda r: (r["sender"] is None, (r["sender"] or "").lower(), r["sender_sid"] or "",
                                    r["kind"] != "audio", r["label"], r["id"]))
    times = [t for panel in (*send, *receive) if panel["series"] for t in panel["series"]["t"]]
    starts = [v for v in (participant["join_ms"],) if v is not None]
    ends = [v for v in (participant["leave_ms"] or participant["last_activity_ms"],) if v is not None]
    if times:
        starts.append(min(times))
        ends.append(max(times) + interval_ms)
    return {"interval_ms": interval_ms, "range": [min(starts, default=None), max(ends, default=None)],
            "thresholds": thresholds, "send": send, "receive": receive}


def _tab(request: Request) -> str:
    tab = request.query_params.get("tab", "send")
    if tab not in TABS:
        raise BadRequest(f"tab: must be one of {', '.join(TABS)}, got {tab!r}")
    return tab


@router.get("/rooms/{room_sid}/participants/{participant_sid}", response_class=HTMLResponse)
def participant_page(room_sid: str, participant_sid: str, request: Request,
                     scope: Scope = Depends(page_scope)) -> HTMLResponse:
    no_params_but(request, "tab")
    tab = _tab(request)
    view = viewed_room(request, scope, room_sid)
    psid = sid_param(participant_sid, "PA", "participant")
    room, account = view.row, view.account_sid
    row = view.participant(psid)
    metrics = participant_metrics(view, psid)
    tracks = view.tracks(psid)
    identities = {psid: row["participant_identity"]}
    svc = services(request)
    graphs = graph_data(metrics, tracks, row, thresholds_of(svc.store, svc.settings, account))
    # An in-progress participant's graphs grow as its reports arrive (web/pages/live.py).
    live_stream = (f"/live/rooms/{view.room_sid}/participants/{psid}/stream"
                   if view.live and row["status"] == ParticipantStatus.IN_PROGRESS else None)
    return render(request, "participant.html", {
        "title": f"{row['participant_identity'] or psid} · {room['room_name'] or room['room_sid']}",
        "room": room, "p": row, "api": participant_json(row, base_url(request)), "tracks": tracks,
        "issues": issue_rows(details_of(row), identities), "issue_types": issue_titles(row["issue_types"]),
        "graphs": graphs, "tab": tab,
        "has_data": bool(metrics["send"] or metrics["receive"] or metrics["receive_tracks"]),
        "live_stream": live_stream,
    })
