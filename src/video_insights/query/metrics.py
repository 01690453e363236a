"""Queries over the stored /Metrics documents of completed participants (store.schema.PARTICIPANT_METRICS)."""

from __future__ import annotations

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.query.sql import q


def document(account_sid: str, participant_sid: str) -> exp.Expr:
    """(document,) of a participant: its latest compressed document, if one is stored."""
    return q("SELECT document FROM participant_metrics WHERE participant_key = :key AND participant_sid = :p "
             "AND account_sid = :a ORDER BY updated_ms DESC LIMIT 1", key=sid_key(participant_sid),
             p=participant_sid, a=account_sid)


def bases(account_sid: str, participants: list[str]) -> exp.Expr:
    """(participant_sid, basis, updated_ms) of these participants' stored documents: what each was built from."""
    return q("SELECT participant_sid, basis, updated_ms FROM participant_metrics WHERE participant_key IN :keys "
             "AND participant_sid IN :pids AND account_sid = :a", a=account_sid, pids=participants,
             keys=sorted({sid_key(p) for p in participants}))
