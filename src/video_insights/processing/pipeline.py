"""The pipeline: the only place that writes.

Ingest adapters submit typed records (stream samples, events). A single writer thread gathers them
for `writer_flush_ms` (less when a submitter waits for its commit) and commits them in one
transaction; a summariser thread then recomputes the summaries of the rooms they touched (events and
samples of those rooms read back from the store, so the result does not depend on which process
received what, or in which order) and commits those. Two threads, so that a commit someone waits for
never waits behind summaries. Which rooms await their summaries is kept in the store too (processing/ledger.py), so
that what a crashed process committed is summarised after a restart, or by another process.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any

import orjson
from prometheus_client import Histogram

from video_insights.alerts.decide import AlertDecider
from video_insights.alerts.rules import PARTICIPANT_ISSUE, Rule
from video_insights.model.ids import sid_key
from video_insights.model.records import Event, StreamSample, track_sid_of
from video_insights.processing import lifecycle as lc
from video_insights.processing.alert_screen import SCREENED, AlertScreen
from video_insights.processing.intervals import GATEWAY_PERIOD_MS, bucket_of
from video_insights.processing.ledger import Ledger
from video_insights.processing.room_summary import RoomSummarizer
from video_insights.query import rooms as room_queries
from video_insights.settings import Settings
from video_insights.store.base import Row, Store, WriteBatch, make_row
from video_insights.store.schema import STREAM_SAMPLES

log = logging.getLogger(__name__)
RoomKey = tuple[str, str]  # (account_sid, room_sid)
# Seconds: a commit takes milliseconds when the writer keeps up, seconds when the store stalls.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Rooms summarised in one go, at most; between two such chunks a room made urgent goes first. A
# chunk of rooms with long histories took seconds under load, and presence waited for it: the chunk
# shrinks so that one takes about SUMMARY_CHUNK_S, and grows back when they are quick.
SUMMARY_CHUNK_ROOMS = 64
SUMMARY_CHUNK_S = 0.5
# Events that change nothing a list shows, so their room waits until it is ripe like reports do. The
# gateway's record of a session's clock offset moving: a client whose clock jumps at every burst would
# otherwise have its room summarised after every commit (docs/benchmarks.md, "The alert screen").
NOT_URGENT_EVENTS = frozenset({lc.CLIENT_CLOCK})


@dataclass
class _Submission:
    samples: Sequence[StreamSample]
    events: Sequence[Event]
    period_ms: int
    done: Future[None] | None  # resolved once stored and summarised
    rooms: Sequence[RoomKey] = ()
    settle: bool = False  # summarise every stale room now, not when it is ripe
    rows: Sequence[Row] = ()  # stream_samples rows built by the gateway's hot path (their rooms in `rooms`)
    # stream_samples as typed columns (store/columns.py), built by the gateway's report workers
    columns: dict[str, Any] | None = None
    column_rows: int = 0  # how many rows `columns` holds
    committed: list[Future[None]] = field(default_factory=list)  # resolved once stored (group commit)
    urgent: bool = False  # summarise its rooms now, not when they are ripe
    hurry: bool = False  # someone waits for its commit: gather for `writer_ack_flush_ms` only
    queued: float = field(default_factory=time.monotonic)  # when it was submitted: the writer's lag

    @property
    def has_data(self) -> bool:
        return bool(self.samples or self.events or self.rows or self.column_rows)

    @property
    def sample_count(self) -> int:
        return len(self.samples) + len(self.rows) + self.column_rows


@dataclass
class _Prepared:
    sub: _Submission
    batch: WriteBatch
    touched: set[RoomKey]
    event_ids: list[str]
    eventful: set[RoomKey] = field(default_factory=set)  # rooms it stores new events of

    @property
    def stored_rooms(self) -> set[RoomKey]:
        """The rooms this submission writes data for (the others are only to be summarised)."""
        return self.touched if self.sub.has_data else set()


@dataclass
class PipelineStats:
    samples: int = 0
    events: int = 0
    duplicate_events: int = 0
    batches: int = 0
    rooms_summarized: int = 0
    metrics_documents: int = 0
    errors: int = 0
    last_error: str = ""
    started: float = field(default_factory=time.time)


def event_id(e: Event) -> str:
    """A stable identity for an event: the same event delivered twice has the same id."""
    body = orjson.dumps([e.account_sid, e.room_sid, e.participant_sid, e.ts_ms, e.source.value, e.name,
                         e.payload], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:32]


def track_sid_for(s: StreamSample) -> str:
    return s.track_sid or track_sid_of(s.account_sid, s.participant_sid, s.track_id, s.pc_id, s.direction, s.kind,
                                       s.ssrc)


# stream_samples rows come straight from StreamSample attributes of the same names (the ingest hot
# path: attrgetter builds each part of the tuple in C), around the three columns computed here.
_COMPUTED = ("bucket_ms", "period_ms", "track_sid", "participant_key")
_NAMES = STREAM_SAMPLES.column_names
_SPLIT = _NAMES.index(_COMPUTED[0])
assert _NAMES[_SPLIT:_SPLIT + 4] == _COMPUTED, "stream_samples column order changed: update sample_row"
_HEAD = attrgetter(*_NAMES[:_SPLIT])
_TAIL = attrgetter(*_NAMES[_SPLIT + 4:])


def sample_row(s: StreamSample, period_ms: int) -> Row:
    return (*_HEAD(s), bucket_of(s.ts_ms), period_ms, track_sid_for(s), sid_key(s.participant_sid), *_TAIL(s))


def _next_chunk(rooms: int, seconds: float) -> int:
    """How many rooms the next chunk takes, after `rooms` took `seconds`: about SUMMARY_CHUNK_S' worth,
    at most SUMMARY_CHUNK_ROOMS, at least one, and growing at most twofold a chunk."""
    fit = int(rooms * SUMMARY_CHUNK_S / seconds) if seconds > 0 else SUMMARY_CHUNK_ROOMS
    return max(1, min(SUMMARY_CHUNK_ROOMS, 2 * rooms, fit))


def _coalesced(subs: list[_Submission]) -> list[_Submission]:
    """The gateway's submissions (ready rows, one message each, nobody waiting for a summary) as one:
    thousands a second would otherwise each cost a batch of their own to prepare and merge."""
    plain: list[_Submission] = []
    others: list[_Submission] = []
    for s in subs:
        (plain if s.rows and not (s.samples or s.events or s.done or s.settle or s.urgent) else others).append(s)
    if len(plain) < 2:
        return subs
    rooms = list(dict.fromkeys(r for s in plain for r in s.rooms))
    merged = _Submission((), (), GATEWAY_PERIOD_MS, None, rooms, rows=list(chain.from_iterable(s.rows for s in plain)),
                         committed=[f for s in plain for f in s.committed])
    return [*others, merged]


class Pipeline:
    def __init__(self, store: Store, settings: Settings, *, metrics_documents: bool = True) -> None:
        self.store = store
        self.settings = settings
        # Off only for a scratch store whose summaries are all that is kept (the demo's previous week).
        self.metrics_documents = metrics_documents
        self.stats = PipelineStats()
        # Not registered anywhere: the app's /metrics collector reads them (web/api/metrics.py).
        self.commit_seconds = Histogram("video_insights_commit_seconds", "Time one commit of the writer takes.",
                                        registry=None, buckets=LATENCY_BUCKETS)
        self.lag_seconds = Histogram("video_insights_commit_lag_seconds",
                                     "Time from a submission's arrival to its commit.", registry=None,
                                     buckets=LATENCY_BUCKETS)
        self.ledger = Ledger(store, settings)
        decider = AlertDecider(store, settings)
        self.summarizer = RoomSummarizer(store, settings, alerts=decider)
        # Participant alerts from the samples each commit stored, within a second or two (the summaries
        # decide them too, later: processing/alert_screen.py).
        self.screen = AlertScreen(store, settings, decider)
        # Accounts with participant_issue alert rules, whose samples are screened; and those of them
        # with a rule on an issue type the screen does not see (from events: a stall, CPU pressure),
        # whose rooms are due after `alerts_summary_delay_s` as their alerts wait for summaries. Set
        # from the rules by `watch` (the alert worker's look at them, alerts/delivery.py).
        self.alert_accounts: frozenset[str] = frozenset()
        self.summary_alert_accounts: frozenset[str] = frozenset()
        # Accounts someone watches live (`/live`, a participant in progress): their running issue counts
        # follow within `alerts_summary_delay_s` too (set by the live hub, web/live_hub.py).
        self.live_accounts: frozenset[str] = frozenset()
        self.on_alerts: Callable[[], None] | None = None  # told when a summary decided alerts
        self._queue: queue.SimpleQueue[_Submission | None] = queue.SimpleQueue()
        self._hurry = threading.Event()  # a submitter waits for its commit: do not gather for long
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        # Rooms whose summary is stale, with when they first became so. Reports alone make a room
        # stale every 10 s per participant; re-summarising at most every `summary_delay_s` keeps that
        # cost flat. Callers that wait (webhooks, imports) get their rooms summarised at once. The
        # store's ledger holds the same knowledge durably; this is the process's schedule for it.
        self._dirty: dict[RoomKey, float] = {}
        self._urgent: set[RoomKey] = set()
        self._busy: set[RoomKey] = set()  # taken by the summariser, not written yet
        # Callers waiting for their rooms' summaries: (rooms still to summarise, taken after round, future).
        self._waiters: list[tuple[set[RoomKey], int, Future[None]]] = []
        self._round = 0  # counts the summariser's takes, so a waiter knows which ones read its data
        self._dirty_lock = threading.Lock()  # the writer marks rooms, the summariser takes them
        self._summary_lock = threading.Lock()  # one summariser at a time (the thread, or a synchronous caller)
        self._summarizer: threading.Thread | None = None
        self._screener: threading.Thread | None = None  # the alert screen's rounds, beside the summaries
        self._wake_screener = threading.Event()
        self._chunk_rooms = SUMMARY_CHUNK_ROOMS  # how many rooms the next chunk of a backlog takes
        self._wake_summarizer = threading.Event()
        self._pending = 0  # samples submitted and not yet written: what backpressure looks at
        self._pending_lock = threading.Lock()  # submitters and the writer thread both change it
        self._lock = threading.Lock()  # one flush at a time (the thread, or a synchronous caller)

    def watch(self, rules: Iterable[Rule], *, add: bool = False) -> None:
        """The participant_issue rules (of every account, or with `add` one more) that alerts are
        decided for: see `alert_accounts`."""
        rules = [r for r in rules if r.type == PARTICIPANT_ISSUE]
        screened = frozenset(r.account_sid for r in rules)
        unseen = frozenset(r.account_sid for r in rules if r.trigger["issue_type"] not in SCREENED)
        if add:
            screened, unseen = screened | self.alert_accounts, unseen | self.summary_alert_accounts
        self.alert_accounts, self.summary_alert_accounts = screened, unseen

    # -- submitting ------------------------------------------------------------------------------
    def submit(self, samples: Sequence[StreamSample] = (), events: Sequence[Event] = (), *,
               period_ms: int = GATEWAY_PERIOD_MS, wait: bool = False, rooms: Sequence[RoomKey] = (),
               rows: Sequence[Row] = (), urgent: bool = False, stored: Future[None] | None = None,
               columns: dict[str, Any] | None = None, committed: Sequence[Future[None]] = ()
               ) -> Future[None] | None:
        """Queue records for the next batch; with wait=True the future resolves once they are stored
        and summarized. `rows` are ready stream_samples rows, whose rooms the caller names in `rooms`.
        `urgent` summarises the rooms at once rather than when ripe. `stored`, if given, is resolved
        once they are committed, as is each of `committed`. `columns` are stream_samples as typed
        columns of equal length (store/columns.py)."""
        done: Future[None] | None = Future() if wait else None
        column_rows = len(next(iter(columns.values()))) if columns else 0
        with self._pending_lock:
            self._pending += len(samples) + len(rows) + column_rows
        self._queue.put(_Submission(samples, events, period_ms, done, rooms, rows=rows, urgent=urgent or wait,
                                    committed=[*([stored] if stored is not None else []), *committed], hurry=wait,
                                    columns=columns, column_rows=column_rows))
        if wait:
            self._hurry.set()
        return done

    def submit_committed(self, events: Sequence[Event] = (), *, rows: Sequence[Row] = (),
                         rooms: Sequence[RoomKey] = (), hurry: bool = True) -> Future[None]:
        """Queue records; the future resolves once they are committed (their summaries follow as
        usual). Concurrent callers share commits: the writer commits at once what has gathered.
        With hurry=False the writer keeps its usual interval: for a caller that does not wait (the
        WebSocket's commit acknowledgements), so that thousands of messages a second do not each
        force a commit."""
        committed: Future[None] = Future()
        with self._pending_lock:
            self._pending += len(rows)
        self._queue.put(_Submission((), events, GATEWAY_PERIOD_MS, None, rooms, rows=rows, committed=[committed],
                                    hurry=hurry))
        if hurry:
            self._hurry.set()
        if self._thread is None:
            self.flush()
        return committed

    def write_now(self, samples: Sequence[StreamSample] = (), events: Sequence[Event] = (), *,
                  period_ms: int = GATEWAY_PERIOD_MS) -> None:
        """Store and summarize at once, whether or not the writer thread runs (CLI, imports)."""
        fut = self.submit(samples, events, period_ms=period_ms, wait=True)
        if self._thread is None:
            self.flush()
        assert fut is not None
        fut.result(timeout=600)

    @property
    def pending_samples(self) -> int:
        return self._pending

    @property
    def pending_summaries(self) -> int:
        """Rooms this process has still to summarise (the store's ledger has them all, durably)."""
        with self._dirty_lock:
            return len(self._dirty) + len(self._busy)

    def settle(self) -> None:
        """Return once everything submitted so far is stored and every stale summary recomputed."""
        done: Future[None] = Future()
        self._queue.put(_Submission((), (), GATEWAY_PERIOD_MS, done, settle=True))
        self._hurry.set()  # a waiter, like an acknowledged submitter: no gathering for `writer_flush_ms`
        if self._thread is None:
            self.flush()
        done.result(timeout=600)

    # -- the writer thread -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._summarizer = threading.Thread(target=self._summarize_loop, name="pipeline-summarizer", daemon=True)
            self._summarizer.start()
            self._screener = threading.Thread(target=self._screen_loop, name="pipeline-alert-screen", daemon=True)
            self._screener.start()
            self._thread = threading.Thread(target=self._run, name="pipeline-writer", daemon=True)
            self._thread.start()
            try:
                self.recover()
            except Exception:  # the scheduler's rounds look again
                log.exception("could not read the ledger of stale rooms")

    def recover(self) -> int:
        """Summarise the rooms the store says are stale and no live process will finish: on a store
        this process has to itself, every one (what a crashed process left); on a shared store, those
        left alone longer than the takeover time. Returns how many."""
        before = self.ledger.abandoned_before_ms() if self.store.shared else int(time.time() * 1000) + 1
        return self.adopt(before)

    def adopt(self, touched_before_ms: int) -> int:
        """Summarise at once the stale rooms whose last touch is older than the given time."""
        rooms = self.ledger.stale(touched_before_ms)
        if rooms:
            log.info("summarising %d stale room(s) found in the store", len(rooms))
            self.submit(rooms=rooms, urgent=True)
        return len(rooms)

    def stop(self) -> None:
        """Commit what was submitted, and summarise every stale room, before returning."""
        if self._thread is not None:
            self._stop.set()
            self._queue.put(None)
            self._hurry.set()  # the writer may be gathering for `writer_flush_ms`: commit now instead
            self._thread.join(timeout=30)
            self._thread = None
        if self._summarizer is not None:
            self._wake_summarizer.set()
            self._summarizer.join(timeout=60)
            self._summarizer = None
        if self._screener is not None:
            self._wake_screener.set()
            self._screener.join(timeout=60)
            self._screener = None
        self.settle()

    def _run(self) -> None:
        interval = self.settings.writer_flush_ms / 1000.0
        ack_interval = min(interval, self.settings.writer_ack_flush_ms / 1000.0)
        last_commit = 0.0
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=interval)
            except queue.Empty:
                continue
            if first is None:
                break
            # Gather a batch, as commits are expensive and rows cheap: commit at most once an interval.
            # A commit that took longer than that has had a batch gathering meanwhile, so the next one
            # starts at once (sleeping after it capped the writer below what the gateway takes in).
            # A submitter waiting for its commit cuts the gathering to `writer_ack_flush_ms`:
            # requests that arrive meanwhile, or while a commit runs, share the next one (group commit).
            deadline = last_commit + (ack_interval if first.hurry else interval)
            while (wait := deadline - time.monotonic()) > 0:
                if self._hurry.wait(wait):
                    deadline = min(deadline, last_commit + ack_interval)
                    self._hurry.clear()
            self._hurry.clear()
            last_commit = time.monotonic()
            self.flush([first])

    def flush(self, pending: list[_Submission | None] | None = None) -> None:
        with self._lock:
            subs = [s for s in (pending or []) if s is not None]
            rows = sum(s.sample_count for s in subs)
            while rows < self.settings.writer_max_rows:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    subs.append(item)
                    rows += item.sample_count
            if subs:
                self._commit(_coalesced(subs))
            with self._pending_lock:
                self._pending -= rows
        if self._summarizer is None:  # no thread (the CLI, tests): screen and summarise here
            self._screen_round()
            self._summarize_dirty()
        else:
            self._wake_summarizer.set()

    def _commit(self, subs: list[_Submission]) -> None:
        prepared = [self._prepare(sub) for sub in subs]
        combined = WriteBatch()
        for p in prepared:
            combined.merge(p.batch)
        failed: dict[int, Exception] = {}
        started = time.monotonic()
        try:
            self.ledger.write(combined, (r for p in prepared for r in p.stored_rooms))
        except Exception:
            # One submission's bad rows must not cost the others theirs: write them one by one.
            log.exception("pipeline batch failed; retrying its submissions one at a time")
            for i, p in enumerate(prepared):
                try:
                    self.ledger.write(p.batch, p.stored_rooms)
                except Exception as e:
                    failed[i] = e
        self.stats.batches += 1
        done = time.monotonic()
        self.commit_seconds.observe(done - started)
        for sub in subs:
            if sub.has_data:
                self.lag_seconds.observe(done - sub.queued)
        for i, p in enumerate(prepared):
            if i in failed:
                self._fail(p.sub, failed[i])
            else:
                self._accepted(p)
                for f in p.sub.committed:
                    if not f.done():
                        f.set_result(None)

    def _fail(self, sub: _Submission, error: Exception) -> None:
        self.stats.errors += 1
        self.stats.last_error = str(error)
        for f in [*sub.committed, *([sub.done] if sub.done is not None else [])]:
            if not f.done():
                f.set_exception(error)

    def _prepare(self, sub: _Submission) -> _Prepared:
        """The rows of one submission; nothing is remembered until they are stored."""
        now = int(time.time() * 1000)
        p = _Prepared(sub, WriteBatch(), set(sub.rooms), [])
        if sub.rows:
            p.batch.inserts.setdefault("stream_samples", []).extend(sub.rows)
        if sub.columns:
            p.batch.insert_columns("stream_samples", sub.columns)
        for s in sub.samples:
            p.batch.insert("stream_samples", sample_row(s, sub.period_ms))
            p.touched.add((s.account_sid, s.room_sid))
        for e in sub.events:
            eid = e.event_id or event_id(e)
            p.touched.add((e.account_sid, e.room_sid))
            if eid in self._seen_events or eid in p.event_ids:
                self.stats.duplicate_events += 1
                continue
            p.event_ids.append(eid)
            if e.name not in NOT_URGENT_EVENTS:
                p.eventful.add((e.account_sid, e.room_sid))
            p.batch.insert("events", make_row(
                "events", account_sid=e.account_sid, room_sid=e.room_sid, participant_sid=e.participant_sid,
                ts_ms=e.ts_ms, source=e.source.value, name=e.name,
                payload=orjson.dumps(e.payload).decode(), event_id=eid, received_ms=now,
                room_key=sid_key(e.room_sid)))
        return p

    def _accepted(self, p: _Prepared) -> None:
        for eid in p.event_ids:
            self._remember(eid)
        accounts = self.alert_accounts
        if accounts and p.sub.has_data:
            self.screen.hand_over(accounts, p.batch.inserts.get("stream_samples", []),
                                  [c for t, c in p.batch.columns if t == "stream_samples"])
            self._wake_screener.set()
        self.stats.samples += p.sub.sample_count
        self.stats.events += len(p.event_ids)
        with self._dirty_lock:
            self._mark_dirty(p.touched, urgent=p.sub.urgent)
            # An event can change who is in a room and their status (a connect, a disconnect, a track):
            # that is summarised at once, so lists show it within a second. Reports, thousands a
            # second, only change figures, which single-room reads compute live (analytics/live.py).
            self._mark_dirty(p.eventful, urgent=True)
            if p.sub.settle:  # the rooms being summarised now too: that summary may predate this
                self._mark_dirty(self._busy)
                self._urgent.update(self._dirty)
            if p.sub.done is not None:  # resolved once a summary that read this commit is written
                rooms = set(self._dirty) if p.sub.settle else set(p.touched)
                if rooms:
                    self._waiters.append((rooms, self._round, p.sub.done))
                elif not p.sub.done.done():
                    p.sub.done.set_result(None)

    def _remember(self, eid: str) -> None:
        self._seen_events[eid] = None
        if len(self._seen_events) > 200_000:
            self._seen_events.popitem(last=False)

    # -- summaries -------------------------------------------------------------------------------
    def _mark_dirty(self, rooms: Iterable[RoomKey], *, urgent: bool = False) -> None:
        now = time.monotonic()
        for room in rooms:
            self._dirty.setdefault(room, now)
            if urgent:
                self._urgent.add(room)

    def _summarize_loop(self) -> None:
        interval = self.settings.writer_flush_ms / 1000.0
        while not self._stop.is_set():
            self._wake_summarizer.wait(interval)  # woken by commits; ripeness is checked each interval
            self._wake_summarizer.clear()
            try:
                self._summarize_dirty()
            except Exception:
                log.exception("summaries failed; their rooms stay stale and are retried")

    def _summarize_dirty(self) -> None:
        """Summarise the rooms that are due, urgent ones first, in chunks. Between two chunks, rooms
        made urgent meanwhile (an event: someone joined or left) go before the rest, so that presence
        does not wait behind a backlog of rooms that only had reports."""
        with self._summary_lock:
            due, taken = self._take_due(urgent_only=False)
            urgent: list[RoomKey] = []
            try:
                while due:
                    if self._urgent:
                        urgent, urgent_taken = self._take_due(urgent_only=True)
                        while urgent:
                            chunk, urgent = urgent[:SUMMARY_CHUNK_ROOMS], urgent[SUMMARY_CHUNK_ROOMS:]
                            self._summarize(chunk, urgent_taken)
                    chunk, due = due[:self._chunk_rooms], due[self._chunk_rooms:]
                    started = time.monotonic()
                    self._summarize(chunk, taken)
                    self._chunk_rooms = _next_chunk(len(chunk), time.monotonic() - started)
            except BaseException:
                with self._dirty_lock:  # what was taken and not reached is due again (a failed chunk is)
                    self._busy.difference_update(due + urgent)
                    self._mark_dirty(due + urgent)
                raise

    def _screen_loop(self) -> None:
        # A thread of its own: a chunk of summaries can take seconds, and an alert must not wait for it.
        interval = self.settings.writer_flush_ms / 1000.0
        while not self._stop.is_set():
            self._wake_screener.wait(interval)
            self._wake_screener.clear()
            self._screen_round()

    def _screen_round(self) -> None:
        """Decide the participant alerts that the samples committed since the last round call for."""
        try:
            decided = self.screen.round(self.alert_accounts)
        except Exception as e:  # the rooms' summaries decide them instead
            self.stats.errors += 1
            self.stats.last_error = str(e)
            log.exception("screening samples for alerts failed; summaries decide those alerts")
            return
        if decided and self.on_alerts is not None:
            self.on_alerts()

    def _take_due(self, *, urgent_only: bool) -> tuple[list[RoomKey], int]:
        """The rooms to summarise now (all that are due, or only the urgent ones), in order, taken
        out of the stale set; and the round they were taken in (for `_settle_waiters`)."""
        with self._dirty_lock:
            ripe = time.monotonic() - self.settings.summary_delay_s
            hurrying = self.summary_alert_accounts | self.live_accounts
            hurried = time.monotonic() - self.settings.alerts_summary_delay_s
            # Rooms someone waits for (a webhook's sender) first, then the other urgent ones.
            waited = {room for rooms, _, _ in self._waiters for room in rooms}
            if urgent_only:
                candidates: Iterable[RoomKey] = (key for key in self._urgent if key in self._dirty)
            else:
                candidates = (key for key, since in self._dirty.items()
                              if since <= ripe or key in self._urgent or (key[0] in hurrying and since <= hurried))
            due = sorted(candidates, key=lambda k: (k not in waited, k not in self._urgent, k))
            for key in due:
                del self._dirty[key]
            self._urgent.difference_update(due)
            self._busy.update(due)
            self._round += 1
            return due, self._round

    def _summarize(self, chunk: list[RoomKey], taken: int) -> None:
        by_account: dict[str, list[str]] = defaultdict(list)
        for account, room in chunk:
            by_account[account].append(room)
        batch = WriteBatch()
        decided = self.summarizer.alerts_decided
        try:
            tokens = self.ledger.take(chunk)  # before the data is read: see processing/ledger.py
            for account, rooms in by_account.items():
                self.summarize_rooms(account, sorted(rooms), batch)
            if self.store.transactional:
                self.ledger.summarized(batch, tokens)
                self.store.write(batch)
            else:  # the marks only once the summaries are there
                self.store.write(batch)
                self.store.write(self.ledger.summarized(WriteBatch(), tokens))
        except Exception as e:
            self.stats.errors += 1
            self.stats.last_error = str(e)
            with self._dirty_lock:  # stored data stays; the rooms are summarised on a later round
                self._busy.difference_update(chunk)
                self._mark_dirty(chunk)
                self._settle_waiters(set(chunk), taken, e)
            raise
        with self._dirty_lock:
            self._busy.difference_update(chunk)
            self._settle_waiters(set(chunk), taken, None)
        if self.summarizer.alerts_decided != decided and self.on_alerts is not None:
            self.on_alerts()

    def _settle_waiters(self, rooms: set[RoomKey], taken: int, error: Exception | None) -> None:
        """Waiters whose rooms a summary taken in round `taken` covered (or failed on)."""
        keep = []
        for waiting, registered, fut in self._waiters:
            if registered < taken and waiting & rooms:
                if error is not None:
                    if not fut.done():
                        fut.set_exception(error)
                    continue
                waiting.difference_update(rooms)
            if waiting:
                keep.append((waiting, registered, fut))
            elif not fut.done():
                fut.set_result(None)
        self._waiters = keep

    def summarize_rooms(self, account: str, rooms: list[str], batch: WriteBatch) -> None:
        self.stats.metrics_documents += self.summarizer.summarize(account, rooms, batch,
                                                                  documents=self.metrics_documents)
        self.stats.rooms_summarized += len(rooms)

    def refresh_in_progress(self, idle_ms: int) -> int:
        """Re-summarize the rooms still in progress that nothing has touched for `idle_ms`, so that
        timeouts end them as time passes. A room with newer activity needs no help: whatever process
        received that activity has marked it stale and summarises it (and every process runs this, so
        leaving active rooms out spares N processes re-summarising every live room each round)."""
        _, rows = self.store.fetch(room_queries.idle_in_progress(int(time.time() * 1000) - idle_ms))
        self.submit(rooms=[(a, r) for a, r in rows])
        return len(rows)
