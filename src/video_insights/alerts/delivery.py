"""The delivery worker: a thread of the server that posts the alerts of the outbox (alerts/outbox.py).

It reads what is due from the store, not from memory, so what a process decided before a `kill -9` is
delivered after the restart, or by another process of a shared store. Guarantee: at least once, with
a stable delivery id (docs/alerts.md):
- a process claims due alerts by writing them with a lease (`lease_owner`, `lease_until_ms`); on a
  shared store it reads them back and posts those whose claim the store kept, so two processes do not
  post one alert at the same time;
- the outcome is written after the post; a process killed in between leaves a lease that expires, and
  the alert is posted again, with the same delivery id, which receivers use to deduplicate.

Each round also decides the window rules' alerts (alerts/decide.py) and tells the pipeline the
rules there are (it screens the samples of accounts with participant_issue rules:
processing/alert_screen.py).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from video_insights import __version__
from video_insights.alerts import decide, outbox, urls
from video_insights.alerts.rules import Rule, get, list_rules
from video_insights.errors import BadRequest, NotFound
from video_insights.settings import Settings
from video_insights.store.base import Store

log = logging.getLogger(__name__)
PARALLEL = 8  # posts at once; a round claims at most this many
TIMEOUT_S = 10.0
LEASE_MS = 120_000  # well beyond a round's posts: a lease that expires means its process died
RULES_EVERY_S = 1.0


def _at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post(client: httpx.Client, target: urls.Target, body: bytes, headers: dict[str, str]) -> int:
    """POST to the address that was checked (not to what the name resolves to a moment later), with
    the name in the Host header and for TLS; redirects are not followed."""
    host = f"[{target.address}]" if ":" in target.address else target.address
    default = {"http": 80, "https": 443}[target.scheme]
    named = target.host if target.port == default else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    r = client.post(f"{target.scheme}://{host}:{target.port}{target.path}", content=body,
                    headers={**headers, "Host": named}, extensions=extensions)
    return r.status_code


class AlertWorker:
    def __init__(self, store: Store, settings: Settings, *,
                 on_rules: Callable[[list[Rule]], None] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.on_rules = on_rules  # every account's rules, after each look
        self.owner = secrets.token_hex(8)
        self.tick_s = min(1.0, max(0.05, settings.alerts_retry_base_s))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rules_at = 0.0
        self._client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False)
        self._pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="alert-post")
        self.delivered = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_S + 5)
            self._thread = None
        self._pool.shutdown(wait=True)
        self._client.close()

    def wake(self) -> None:
        """Alerts were just decided: deliver them now rather than at the next tick."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.round()
            except Exception:  # a store that fails now is tried again next tick; /healthz shows it
                log.exception("alert deliveries failed; they are tried again")
            self._wake.wait(self.tick_s)

    def round(self) -> int:
        """Decide what window rules call for, then post every due alert; returns how many were posted."""
        now = int(time.time() * 1000)
        if time.monotonic() - self._rules_at >= RULES_EVERY_S:
            self._rules_at = time.monotonic()
            rules = list_rules(self.store)
            if self.on_rules is not None:
                self.on_rules(rules)
            decide.windows(self.store, self.settings, rules, now)
        posted = 0
        tried: set[str] = set()
        while not self._stop.is_set():
            # Each alert once a round: a failed one whose retry falls due before the round ends waits
            # for the next round, as its backoff says, instead of being tried again at once.
            due = [r for r in outbox.due(self.store, now, PARALLEL) if r["alert_sid"] not in tried]
            claimed = self._claim(due, now)
            if not claimed:
                break
            tried.update(r["alert_sid"] for r in claimed)
            done = list(self._pool.map(self._deliver, claimed))
            outbox.write(self.store, done)
            posted += len(done)
            now = int(time.time() * 1000)
        return posted

    def _claim(self, rows: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
        if not rows:
            return []
        mine = [outbox.next_version(r, now, lease_owner=self.owner, lease_until_ms=now + LEASE_MS) for r in rows]
        outbox.write(self.store, mine)
        if not self.store.shared:
            return mine
        # Another process may have claimed some at the same moment: the store kept one claim of each.
        kept = outbox.by_sid(self.store, None, [r["alert_sid"] for r in mine])
        return [r for r in mine if kept.get(r["alert_sid"], {}).get("lease_owner") == self.owner]

    def _rule(self, row: dict[str, Any]) -> Rule | None:
        try:
            return get(self.store, row["account_sid"], row["rule_sid"])
        except NotFound:
            return None

    def _deliver(self, row: dict[str, Any]) -> dict[str, Any]:
        """Post one alert; its next version (delivered, to retry, failed or cancelled)."""
        rule = self._rule(row)
        started = int(time.time() * 1000)
        if rule is None:
            return outbox.next_version(row, started, state=outbox.CANCELLED, lease_owner=None, lease_until_ms=None)
        body = row["body"].encode()
        headers = {"Content-Type": "application/json", "User-Agent": f"video-insights/{__version__}",
                   outbox.SIGNATURE_HEADER: outbox.sign(rule.secret, body), outbox.DELIVERY_HEADER: row["alert_sid"]}
        status: int | None = None
        error: str | None = None
        try:
            target = urls.resolve(rule.url, allow_private=self.settings.alerts_allow_private_urls)
            status = post(self._client, target, body, headers)
        except BadRequest as e:
            error = e.message
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        ended = int(time.time() * 1000)
        ok = status is not None and 200 <= status < 300
        if not ok:
            log.info("alert %s to %s: %s", row["alert_sid"], rule.url, error or f"HTTP {status}")
        else:
            self.delivered += 1
        outcome = {"at": _at(started), "status_code": status, "error": error, "duration_ms": ended - started}
        return outbox.after_attempt(row, ended, outcome, ok, self.settings.alerts_retry_base_s)
