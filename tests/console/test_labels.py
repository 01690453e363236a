"""What the console prints for stored values: one label per value, and measurements with enough digits
that one which crossed its threshold does not print as the threshold."""

from __future__ import annotations

from video_insights.model.issues import CATALOG
from video_insights.model.labels import BY_FIELD, issue_title, track_name, value_label
from video_insights.model.vocabulary import ParticipantEndReason, RoomEndReason, RoomType
from video_insights.query.fields import ROOM_FIELDS
from video_insights.web.pages.room import issue_rows, measured_and_threshold


def test_every_enum_value_has_a_label() -> None:
    for f in ROOM_FIELDS:
        for choice in f.choices if f.type in ("enum", "set") and f.name in BY_FIELD else ():
            assert value_label(f.name, choice) != choice, f"{f.name}={choice} has no label"
    for reason in (*ParticipantEndReason, *RoomEndReason):
        assert "_" not in value_label("end_reason", reason)
    assert value_label("room_type", RoomType.PEER_TO_PEER) == "Peer-to-peer"
    assert value_label("room_type", "a_newer_type") == "a_newer_type"  # unknown values show as they are
    assert value_label("media_region", "us1") == "us1"  # free text is not labelled
    assert value_label("end_reason", None) == ""


def test_issue_labels_are_the_catalog_titles() -> None:
    for t, info in CATALOG.items():
        assert issue_title(t.value) == value_label("issue_type", t.value) == info.title


def test_unnamed_tracks_have_one_name() -> None:
    assert track_name(None, "audio") == track_name("", "audio") == "Unnamed audio track"
    assert track_name("mic", "audio") == "mic"


def test_a_value_over_its_threshold_never_prints_as_the_threshold() -> None:
    assert measured_and_threshold(0.0204, 0.02, "share") == ("2.04 % of the time", "2 % of the time")
    assert measured_and_threshold(0.024, 0.02, "share") == ("2.4 % of the time", "2 % of the time")
    assert measured_and_threshold(0.02, 0.02, "share") == ("2 % of the time", "2 % of the time")
    assert measured_and_threshold(5.001, 5.0, "%") == ("5.001 %", "5 %")
    assert measured_and_threshold(300.04, 300.0, "ms") == ("300.04 ms", "300 ms")
    assert measured_and_threshold(6.0, 5.0, "s") == ("6 s", "5 s")
    (row,) = issue_rows([{"issue_type": "video_freezes", "properties": {
        "participant_sid": "PA1", "value": 0.0204, "threshold": 0.02, "media": ["video"],
        "directions": ["inbound"]}}], {"PA1": "ana"})
    assert (row.title, row.measured, row.threshold) == ("Video freezes", "2.04 % of the time", "2 % of the time")
