"""The alert screen (processing/alert_screen.py): participant alerts decided from the samples a commit
stored, within a second or two, instead of from whole-room summaries that can fall behind.

- Over a real server, the frames twilio-video.js really sent with 10 % loss get their alert from the
  screen while no summary is due, and the summaries that follow add nothing.
- The screen's decisions are the summaries': fed a call one sample at a time, it writes the alert at
  the very sample after which a summary first tags the participant, for each screened issue type.
- It reads the store only for participants past a threshold: participants with clean samples cost no
  read, and a tagged participant is not read again.
- A rule's filters judge the participant's stored room; a room not summarised yet is left to its summary.
- Far behind, it leaves samples to the summaries, and counts them.
- Rules on the issues it screens do not hurry the summaries of their account's rooms; rules on the
  others do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import LiveServer, make_account
from support import (
    ALERTS_FAST,
    Creds,
    Receiver,
    alert_history,
    alerts_settled,
    sdk_frames,
    sdk_session,
)
from video_insights.alerts import rules
from video_insights.alerts.decide import AlertDecider
from video_insights.model.ids import new_sid, sid_key
from video_insights.model.issues import IssueType
from video_insights.model.records import StreamSample
from video_insights.processing import alert_screen
from video_insights.processing.alert_screen import AlertScreen
from video_insights.processing.detectors import DetectorInput, detect_all
from video_insights.processing.pipeline import Pipeline, sample_row
from video_insights.processing.room_summary import account_issue_configs, track_stats
from video_insights.query import alerts as alert_queries
from video_insights.query import rooms as room_queries
from video_insights.query.sql import rows_as_dicts
from video_insights.settings import Settings
from video_insights.store import Store
from video_insights.store.base import WriteBatch, make_row


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # No summary is due for an hour, hurried or not: only the screen (or an event) can decide.
    return Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}",
                             **{**ALERTS_FAST, "alerts_summary_delay_s": 3600})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _rule(store: Store, account: str, issue_type: str, url: str = "http://127.0.0.1:9/hook", *,
          made_ago_s: float = 0, filters: dict[str, str] | None = None) -> rules.Rule:
    trigger = {"type": "participant_issue", "issue_type": issue_type, **({"filters": filters} if filters else {})}
    rule = rules.parse_rule({"trigger": trigger, "url": url}, account, allow_private=True)
    return rules.create(store, replace(rule, created_ms=rule.created_ms - int(made_ago_s * 1000)))



def test_real_twilio_video_frames_get_their_alert_from_the_screen(live_server: LiveServer, creds: Creds,
                                                                   receiver: Receiver) -> None:
    pipeline = live_server.app.state.services.pipeline  # type: ignore[attr-defined]
    room, participant = new_sid("RM"), new_sid("PA")
    with live_server.client(creds) as api:
        # A rule made before the call: the recorded frames are stamped up to 35 s ago, and a participant
        # counts for a rule once active since the rule was made (by its samples' times, as summaries judge).
        rule = _rule(live_server.store, creds.account_sid, "packet_loss", receiver.url, made_ago_s=120)
        pipeline.alert_accounts = pipeline.alert_accounts | {creds.account_sid}
        # The call's events first, summarised at once as events are; then its stats reports alone,
        # which make no summary due: what decides the alert is the screen.
        connect_frame, *frames = sdk_frames("loss10")
        reports = [f for f in frames if f.get("name") == "stats-report"]
        with sdk_session(live_server.url, creds, connect_frame, room, participant, identity="alerted") as send:
            send([f for f in frames[:-1] if f not in reports])
            live_server.flush()
            send(reports)
            sent = time.time()
            _, _, at = receiver.wait_for(1)[0]
        assert at - sent < 5, at - sent
        assert pipeline.screen.decided == 1
        metrics = {line.split()[0]: float(line.split()[1]) for line in api.get("/metrics").text.splitlines()
                   if line.startswith("video_insights_alert")}
        assert metrics["video_insights_alerts_decided_by_screen_total"] == 1
        assert metrics["video_insights_alert_screen_reads_total"] >= 1
        (alert,) = alerts_settled(api, "delivered")
        assert (alert["participant_sid"], alert["issue_type"], alert["rule_sid"]) == (
            participant, "packet_loss", rule.sid)
        # The summaries, when they come, tag the participant as the screen did, and add no alert.
        live_server.flush()
        r = api.get(f"/v1/Video/Rooms/{room}/Participants/{participant}")
        assert r.status_code == 200, r.text
        assert "packet_loss" in [i["issue_type"] for i in r.json()["detected_issues"]["details"]]
        time.sleep(0.3)
        assert len(alert_history(api)) == 1 and len(receiver.received) == 1
        # A clean call costs the screen no read of the store.
        confirmed = pipeline.screen.confirmed
        connect_frame, *events = sdk_frames("clean")
        with sdk_session(live_server.url, creds, connect_frame, new_sid("RM"), new_sid("PA"), identity="clean") as send:
            send(events[:-1])
        live_server.flush()
        assert pipeline.screen.confirmed == confirmed


# -- the screen alone, on a store -------------------------------------------------------------------

@pytest.fixture
def duck(duckdb_store: Store) -> Store:
    return duckdb_store


def _tagged(store: Store, settings: Settings, account: str, pid: str) -> set[str]:
    """The issue types a summary would tag the participant with now (the detectors over its stored
    whole-life statistics)."""
    configs = account_issue_configs(store, settings, account)
    tracks = track_stats(store, account, [pid]).get(pid, [])
    return {i.issue_type for i in detect_all(DetectorInput(pid, tracks, ()), configs)}


def _alerted(store: Store, account: str) -> set[tuple[str, str]]:
    columns, rows = store.fetch(alert_queries.history(account, rule_sid=None, state=None, limit=1000, offset=0))
    return {(a["participant_sid"], a["issue_type"]) for a in rows_as_dicts(columns, rows)}


class Series:
    """One sent or received stream's cumulative counters, advanced one 10-second interval at a time."""

    def __init__(self, account: str, room: str, pid: str, direction: str, kind: str, ssrc: int, start: int) -> None:
        self.key = (account, room, pid, "pc1", direction, kind, ssrc)
        self.ts = start
        self.c: dict[str, float] = {"bytes": 0, "packets": 0, "packets_lost": 0, "total_rtt_s": 0.0,
                                    "rtt_measurements": 0, "ql_cpu_s": 0.0, "ql_bandwidth_s": 0.0,
                                    "freeze_count": 0, "freezes_duration_s": 0.0}

    def step(self, **change: Any) -> StreamSample:
        self.ts += 10_000
        instant = {k: change.pop(k) for k in ("rtt_ms", "jitter_ms", "quality_limitation_reason") if k in change}
        for k, v in change.items():
            self.c[k] += v
        a, r, p, pc, d, kind, ssrc = self.key
        return StreamSample(a, r, p, pc, d, kind, ssrc, self.ts, track_sid=f"MT{ssrc:032d}",  # type: ignore[arg-type]
                            bytes=int(self.c["bytes"]), packets=int(self.c["packets"]),
                            packets_lost=int(self.c["packets_lost"]), total_rtt_s=self.c["total_rtt_s"],
                            rtt_measurements=int(self.c["rtt_measurements"]), ql_cpu_s=self.c["ql_cpu_s"],
                            ql_bandwidth_s=self.c["ql_bandwidth_s"], freeze_count=int(self.c["freeze_count"]),
                            freezes_duration_s=self.c["freezes_duration_s"], **instant)


def _interval(rng: random.Random, issue_type: IssueType, bad: bool) -> dict[str, Any]:
    """One interval's changes for a stream watched for `issue_type`, past its default threshold or not."""
    base: dict[str, Any] = {"bytes": 50_000, "packets": 500}
    if issue_type == IssueType.PACKET_LOSS:
        return {**base, "packets_lost": rng.randint(40, 200) if bad else rng.randint(0, 10)}
    if issue_type == IssueType.ROUND_TRIP_TIME:
        rtt = rng.uniform(450, 900) if bad else rng.uniform(20, 200)
        return {**base, "total_rtt_s": 5 * rtt / 1000, "rtt_measurements": 5, "rtt_ms": rtt}
    if issue_type == IssueType.HIGH_JITTER:
        return {**base, "jitter_ms": rng.uniform(40, 90) if bad else rng.uniform(1, 20)}
    if issue_type in (IssueType.CPU_LIMITED, IssueType.BANDWIDTH_LIMITED):
        column, reason = (("ql_cpu_s", "cpu") if issue_type == IssueType.CPU_LIMITED
                          else ("ql_bandwidth_s", "bandwidth"))
        limited = rng.uniform(6, 10) if bad else rng.uniform(0, 1)
        return {**base, column: limited, "quality_limitation_reason": reason if bad else "none"}
    assert issue_type == IssueType.VIDEO_FREEZES
    frozen = rng.uniform(2, 6) if bad else 0.0
    return {**base, "freeze_count": 1 if bad else 0, "freezes_duration_s": frozen}


STREAM = {IssueType.PACKET_LOSS: ("send", "video"), IssueType.ROUND_TRIP_TIME: ("send", "audio"),
          IssueType.HIGH_JITTER: ("send", "audio"), IssueType.CPU_LIMITED: ("send", "video"),
          IssueType.BANDWIDTH_LIMITED: ("send", "video"), IssueType.VIDEO_FREEZES: ("recv", "video")}


@pytest.mark.parametrize("issue_type", alert_screen.SCREENED)
def test_the_screen_alerts_at_the_sample_after_which_a_summary_first_tags(duck: Store, issue_type: IssueType,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alert_screen, "RECHECK_S", 0.0)
    settings = Settings.from_env({}, store=duck.url)
    account = make_account(duck).account_sid
    _rule(duck, account, issue_type.value, made_ago_s=7200)
    screen = AlertScreen(duck, settings, AlertDecider(duck, settings))
    accounts = frozenset({account})
    direction, kind = STREAM[issue_type]
    for seed in range(4):
        rng = random.Random(seed)
        room, pid = new_sid("RM"), new_sid("PA")
        series = Series(account, room, pid, direction, kind, seed + 1, int(time.time() * 1000) - 3_600_000)
        bad_from = rng.randint(3, 12)  # clean at first, then mostly past the threshold
        first_tag = first_alert = None
        for n in range(30):
            sample = series.step(**_interval(rng, issue_type, n >= bad_from and rng.random() < 0.8))
            row = sample_row(sample, 10_000)
            duck.write(WriteBatch(inserts={"stream_samples": [row]}))
            screen.hand_over(accounts, [row], [])
            screen.round(accounts)
            if first_tag is None and issue_type.value in _tagged(duck, settings, account, pid):
                first_tag = n
            if first_alert is None and (pid, issue_type.value) in _alerted(duck, account):
                first_alert = n
        assert first_tag is not None, f"seed {seed}: the scenario never crossed the threshold"
        assert first_alert == first_tag, (seed, first_tag, first_alert)


def test_the_store_is_read_only_for_participants_past_a_threshold(duck: Store) -> None:
    settings = Settings.from_env({}, store=duck.url)
    account = make_account(duck).account_sid
    other = make_account(duck).account_sid  # no rules: its samples are not even screened
    _rule(duck, account, "packet_loss", made_ago_s=7200)
    screen = AlertScreen(duck, settings, AlertDecider(duck, settings))
    accounts = frozenset({account})
    rng = random.Random(7)
    start = int(time.time() * 1000) - 3_600_000
    clean = [Series(a, new_sid("RM"), new_sid("PA"), "send", "audio", 1, start) for a in [account] * 200 + [other] * 50]
    lossy = Series(account, new_sid("RM"), new_sid("PA"), "send", "audio", 1, start)
    other_lossy = Series(other, new_sid("RM"), new_sid("PA"), "send", "audio", 1, start)
    for n in range(10):
        rows = [sample_row(s.step(**_interval(rng, IssueType.PACKET_LOSS, False)), 10_000) for s in clean]
        rows += [sample_row(s.step(**_interval(rng, IssueType.PACKET_LOSS, n >= 3)), 10_000)
                 for s in (lossy, other_lossy)]
        duck.write(WriteBatch(inserts={"stream_samples": rows}))
        screen.hand_over(accounts, rows, [])
        screen.round(accounts)
    assert screen.confirmed == 1 and screen.decided == 1  # read once, at its first lossy sample; then tagged
    assert _alerted(duck, account) == {(lossy.key[2], "packet_loss")} and _alerted(duck, other) == set()


def test_only_rules_that_summaries_decide_hurry_the_summaries(duck: Store) -> None:
    """Rooms whose account's rules the screen covers wait for their usual summary; a rule on an issue
    only summaries see (a stall lasts longer as reports come in) hurries its account's rooms."""
    settings = Settings.from_env({}, store=duck.url, summary_delay_s=3600, alerts_summary_delay_s=0)
    screened, unseen = make_account(duck).account_sid, make_account(duck).account_sid
    pipeline = Pipeline(duck, settings)
    pipeline.watch([_rule(duck, screened, "packet_loss"), _rule(duck, unseen, "video_stalled")])
    assert pipeline.alert_accounts == {screened, unseen} and pipeline.summary_alert_accounts == {unseen}
    start = int(time.time() * 1000) - 60_000
    rooms = {}
    for account in (screened, unseen):
        rooms[account] = new_sid("RM")
        series = Series(account, rooms[account], new_sid("PA"), "send", "audio", 1, start)
        pipeline.submit([series.step(bytes=1000, packets=10) for _ in range(3)])
    pipeline.flush()
    for account, hurried in ((screened, False), (unseen, True)):
        _, found = duck.fetch(room_queries.of_sids(account, [rooms[account]]))
        assert bool(found) == hurried, account
    pipeline.watch([_rule(duck, screened, "cpu_pressure")], add=True)
    assert pipeline.summary_alert_accounts == {screened, unseen}


def test_a_screen_far_behind_leaves_samples_to_the_summaries_and_counts_them(duck: Store,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alert_screen, "MAX_PENDING_ROWS", 3)
    settings = Settings.from_env({}, store=duck.url)
    account = make_account(duck).account_sid
    _rule(duck, account, "packet_loss", made_ago_s=7200)
    screen = AlertScreen(duck, settings, AlertDecider(duck, settings))
    accounts = frozenset({account})
    rng = random.Random(3)
    series = [Series(account, new_sid("RM"), new_sid("PA"), "send", "audio", 1, int(time.time() * 1000) - 600_000)
              for _ in range(5)]
    for _ in range(2):  # two commits of five samples each, all past the threshold, before a round
        rows = [sample_row(s.step(**_interval(rng, IssueType.PACKET_LOSS, True)), 10_000) for s in series]
        duck.write(WriteBatch(inserts={"stream_samples": rows}))
        screen.hand_over(accounts, rows, [])
    assert screen.refused == 5  # the second commit: five were already waiting
    screen.round(accounts)
    assert screen.decided == 5  # the first commit's samples name all five participants anyway


def test_a_rule_with_filters_judges_the_stored_room_and_leaves_an_unsummarised_one_to_its_summary(
        store: Store) -> None:
    duck = store  # both engines: ClickHouse keeps a room's versions until it merges them
    settings = Settings.from_env({}, store=duck.url)
    account = make_account(duck).account_sid
    _rule(duck, account, "packet_loss", made_ago_s=7200, filters={"room_type__eq": "group"})
    screen = AlertScreen(duck, settings, AlertDecider(duck, settings))
    accounts = frozenset({account})
    start = int(time.time() * 1000) - 600_000
    group, go, unsummarised = new_sid("RM"), new_sid("RM"), new_sid("RM")
    stored = WriteBatch()
    for room, room_type in ((group, "group"), (go, "go")):
        stored.replace("rooms", make_row("rooms", account_sid=account, room_sid=room, room_type=room_type,
                                         room_status="in_progress", create_ms=start, updated_ms=start,
                                         room_key=sid_key(room)))
    duck.write(stored)
    rng = random.Random(5)
    series = {room: Series(account, room, new_sid("PA"), "send", "audio", 1, start)
              for room in (group, go, unsummarised)}
    rows = [sample_row(s.step(**_interval(rng, IssueType.PACKET_LOSS, True)), 10_000) for s in series.values()]
    duck.write(WriteBatch(inserts={"stream_samples": rows}))
    screen.hand_over(accounts, rows, [])
    screen.round(accounts)
    assert screen.confirmed == 3 and _alerted(duck, account) == {(series[group].key[2], "packet_loss")}
