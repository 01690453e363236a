"""`serve --demo`: one "Demo" account with a week of data, filled while the server answers, reused afterwards.

The account comes first (its credentials are printed at once, to log in while the data fills in),
marked in its settings JSON as being filled (`"demo": "filling"`; nothing else reads that key, and
settings changes keep keys they do not know). The mark goes once everything is written. A start that
finds the mark (the last fill was interrupted: Ctrl-C, kill -9, a crash) deletes whatever the account
has and fills it again, so an interrupted fill never leaves a half-filled demo or duplicated rows.

A fill writes this week's rooms (`demo.generator`), then the dashboard facts of the week before
(`demo.facts`), so that the dashboard's "against the previous period" compares two real weeks.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from video_insights.accounts import ApiKey, create_account, create_key, find_key, get_account, update_settings
from video_insights.demo.facts import generate_facts
from video_insights.demo.generator import GenerationStopped, generate
from video_insights.demo.progress import COMPLETE, FAILED, GENERATING, STOPPED, DemoProgress
from video_insights.demo.rhythm import DAY_MS
from video_insights.query import accounts as account_queries
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch
from video_insights.store.schema import TABLES

log = logging.getLogger(__name__)
DEMO_NAME = "Demo"
DEMO_DAYS = 7
DEMO_ROOMS_PER_DAY = 300
MARK, FILLING = "demo", "filling"
# The previous week is another draw of the same rhythm and mix: the same kind of week, not a copy.
PREVIOUS_WEEK_SEED = 1
# What an interrupted fill may have written: every table of account data (accounts and keys stay).
_DATA_TABLES = tuple(t.name for t in TABLES if "account_sid" in t.column_names and t.name not in ("accounts",
                                                                                                  "api_keys"))


@dataclass(frozen=True)
class DemoAccount:
    credentials: dict[str, str]  # account_sid, auth_token, key_sid, key_secret
    filled: bool  # False: new, or the last fill was interrupted

    @property
    def sid(self) -> str:
        return self.credentials["account_sid"]


def demo_account(store: Store) -> DemoAccount:
    """The Demo account, made (marked as being filled) if the store has none."""
    _, rows = store.fetch(account_queries.first_account_named(DEMO_NAME))
    if rows:
        account = get_account(store, str(rows[0][0]))
        key = _existing_key(store, account.sid) or create_key(store, account.sid, friendly_name=DEMO_NAME)
    else:
        account = create_account(store, friendly_name=DEMO_NAME, settings={MARK: FILLING})
        key = create_key(store, account.sid, friendly_name=DEMO_NAME)
    return DemoAccount({"account_sid": account.sid, "auth_token": account.auth_token, "key_sid": key.sid,
                        "key_secret": key.secret}, filled=MARK not in (account.settings or {}))


def fill(store: Store, settings: Settings, account_sid: str, *, progress: DemoProgress | None = None,
         stop: threading.Event | None = None, rooms_per_day: int = DEMO_ROOMS_PER_DAY) -> None:
    """Write the demo data of an account marked as being filled (anything it has goes first), then unmark it."""
    _clear(store, account_sid)
    now = int(time.time() * 1000)
    this_week = progress.reporter("this week") if progress else None
    generate(store, settings, account_sid=account_sid, days=DEMO_DAYS, rooms_per_day=rooms_per_day, now_ms=now,
             progress=False, report=this_week, stop=stop)
    previous = progress.reporter("previous week") if progress else None
    generate_facts(store, settings, account_sid=account_sid, end_ms=now - DEMO_DAYS * DAY_MS, now_ms=now,
                   days=DEMO_DAYS, rooms_per_day=rooms_per_day, seed=PREVIOUS_WEEK_SEED, progress=False,
                   report=previous, stop=stop)
    account = get_account(store, account_sid)
    update_settings(store, account_sid, {k: v for k, v in (account.settings or {}).items() if k != MARK})


def seed_demo(store: Store, settings: Settings, *, rooms_per_day: int = DEMO_ROOMS_PER_DAY) -> dict[str, str]:
    """The demo account's credentials, its data written first if it is not complete (no server running)."""
    account = demo_account(store)
    if not account.filled:
        fill(store, settings, account.sid, rooms_per_day=rooms_per_day)
    return account.credentials


class DemoFill:
    """`fill` in a thread of its own while the server answers; `progress` is what /healthz and the
    console show. `stop` (the server shutting down) ends it between two steps: the account keeps its
    mark, and the next start fills it again."""

    def __init__(self, store: Store, settings: Settings, account: DemoAccount, progress: DemoProgress,
                 rooms_per_day: int = DEMO_ROOMS_PER_DAY) -> None:
        self.store, self.settings, self.account, self.progress = store, settings, account, progress
        self.rooms_per_day = rooms_per_day
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if account.filled:
            progress.finish(COMPLETE)

    def start(self) -> None:
        if self.progress.state == GENERATING and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="demo-fill", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 60) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("demo fill did not stop within %s s", timeout_s)

    def _run(self) -> None:
        try:
            fill(self.store, self.settings, self.account.sid, progress=self.progress, stop=self._stop,
                 rooms_per_day=self.rooms_per_day)
        except GenerationStopped:
            self.progress.finish(STOPPED)
        except Exception as e:  # the server goes on; the mark stays, so the next start tries again
            log.exception("demo fill failed")
            self.progress.finish(FAILED, f"{type(e).__name__}: {e}")
        else:
            self.progress.finish(COMPLETE)


def _clear(store: Store, account_sid: str) -> None:
    batch = WriteBatch()
    batch.deletes.extend((table, account_queries.owned_by(account_sid)) for table in _DATA_TABLES)
    store.write(batch)


def _existing_key(store: Store, account_sid: str) -> ApiKey | None:
    _, rows = store.fetch(account_queries.first_twilio_key(account_sid))
    return find_key(store, str(rows[0][0])) if rows else None
