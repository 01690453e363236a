"""A room as the API shows it: its stored summary once it has ended, computed now while in progress.

The pipeline rewrites a room's stored summary at most every `summary_delay_s` while only stats
reports arrive (events are summarised at once). A single room read does not wait for that: a room in
progress, or one whose first data is committed and not summarised yet, is summarised at read time from
its stored events and samples by the summariser's own code (processing/room_summary.py), so the room,
its participants, their tracks, running loss, RTT and detected issues, and their /Metrics are current
to the last commit (docs/durability.md, "Live reads"). Lists (rooms explorer, dashboards) read stored
summaries only: those are current within a second for presence and status, as events are summarised
at once.
"""

from __future__ import annotations

from typing import Any

from video_insights.analytics import rooms
from video_insights.analytics.rooms import Scope
from video_insights.errors import NotFound
from video_insights.model.vocabulary import RoomStatus
from video_insights.processing.room_summary import RoomSummarizer
from video_insights.query import events as event_queries
from video_insights.query import senders as sender_queries
from video_insights.query.sql import rows_as_dicts
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch
from video_insights.store.schema import PARTICIPANTS, ROOMS, TRACKS


class RoomView:
    """One room's summary rows: read from the store (`live` false), or computed now (`live` true)."""

    def __init__(self, store: Store, row: dict[str, Any], *, live: bool = False,
                 participants: list[dict[str, Any]] | None = None, tracks: list[dict[str, Any]] | None = None):
        self.store = store
        self.row = row
        self.live = live
        self._participants = participants or []
        self._tracks = tracks or []
        self._identities: dict[str, str | None] | None = None

    @property
    def account_sid(self) -> str:
        return str(self.row["account_sid"])

    @property
    def room_sid(self) -> str:
        return str(self.row["room_sid"])

    def participants(self, page: int, size: int) -> list[dict[str, Any]]:
        """A page of the room's participants by join time, one more than `size` when more follow."""
        if not self.live:
            return rooms.list_participants(self.store, self.account_sid, self.room_sid, page, size)
        return self._participants[page * size:(page + 1) * size + 1]

    def participant(self, participant_sid: str) -> dict[str, Any]:
        if not self.live:
            own = Scope(self.account_sid, frozenset({self.account_sid}))
            return rooms.get_participant(self.store, own, self.room_sid, participant_sid)
        for p in self._participants:
            if p["participant_sid"] == participant_sid:
                return p
        raise NotFound(f"participant {participant_sid} not found in room {self.room_sid}")

    def tracks(self, participant_sid: str) -> list[dict[str, Any]]:
        if not self.live:
            return rooms.participant_tracks(self.store, self.account_sid, self.room_sid, participant_sid)
        return [t for t in self._tracks if t["participant_sid"] == participant_sid]

    def published(self) -> list[dict[str, Any]]:
        """Every track published in the room: participant_sid, track_sid, kind, name."""
        if not self.live:
            cols, rows = self.store.fetch(sender_queries.room_tracks(self.account_sid, self.room_sid,
                                                                     sorted(self.identities())))
            return rows_as_dicts(cols, rows)
        return [{k: t[k] for k in ("participant_sid", "track_sid", "kind", "name")} for t in self._tracks]

    def identities(self) -> dict[str, str | None]:
        """Everyone in the room: participant SID → identity (read once per view)."""
        if not self.live:
            if self._identities is None:
                _, rows = self.store.fetch(sender_queries.room_identities(self.account_sid, self.room_sid))
                self._identities = {str(sid): identity for sid, identity in rows}
            return self._identities
        return {p["participant_sid"]: p["participant_identity"] for p in self._participants}


class LiveRooms:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.summarizer = RoomSummarizer(store, settings)

    def view(self, scope: Scope, room_sid: str) -> RoomView:
        """The room, if one of the scope's accounts has it: stored once completed, computed otherwise."""
        stored = rooms.find_room(self.store, scope, room_sid)
        if stored is not None and stored["room_status"] != RoomStatus.IN_PROGRESS:
            return RoomView(self.store, stored)
        account = stored["account_sid"] if stored is not None else self._account_with_events(scope, room_sid)
        if account is None:
            raise NotFound(f"room {room_sid} not found")
        batch = WriteBatch()
        self.summarizer.summarize(account, [room_sid], batch, documents=False)
        computed = rows_as_dicts(ROOMS.column_names, batch.replaces.get("rooms", []))
        if not computed:  # its events went (retention) between the two reads
            raise NotFound(f"room {room_sid} not found")
        participants = sorted(rows_as_dicts(PARTICIPANTS.column_names, batch.replaces.get("participants", [])),
                              key=lambda p: (p["join_ms"] is None, p["join_ms"] or 0, p["participant_sid"]))
        tracks = sorted(rows_as_dicts(TRACKS.column_names, batch.replaces.get("tracks", [])),
                        key=lambda t: (t["first_ms"] is None, t["first_ms"] or 0, t["track_sid"]))
        return RoomView(self.store, computed[0], live=True, participants=participants, tracks=tracks)

    def _account_with_events(self, scope: Scope, room_sid: str) -> str | None:
        """Which of the scope's accounts has events of a room not summarised yet."""
        _, found = self.store.fetch(event_queries.account_with_room(scope.reachable, room_sid))
        return str(found[0][0]) if found else None
