"""What routes share: the running service's parts, credentials, base URLs and bounded bodies."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from video_insights.accounts import Principal, authenticate
from video_insights.analytics.live import LiveRooms
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest, NotFound, PayloadTooLarge, Saturated, Unauthorized
from video_insights.ingest.gateway import Gateway
from video_insights.ingest.report_workers import ReportWorkers
from video_insights.model.ids import is_sid, normalise_sid
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store.base import Store
from video_insights.web.live_hub import LiveHub
from video_insights.web.push_back import PushBack

if TYPE_CHECKING:
    from video_insights.demo.seed import DemoFill


@dataclass
class Services:
    settings: Settings
    store: Store
    pipeline: Pipeline
    gateway: Gateway
    demo: DemoFill | None = None  # `serve --demo`: fills the demo account while the server answers
    reports: ReportWorkers | None = None  # the WebSocket's stats reports parsed in worker processes
    live: LiveRooms = field(init=False)  # single-room reads, current to the last commit
    live_hub: LiveHub = field(init=False)  # the live views' streams (`/live`), shared per account
    push_back: PushBack = field(init=False)  # where WebSockets wait while the writer is behind

    def __post_init__(self) -> None:
        self.live = LiveRooms(self.store, self.settings)
        self.live_hub = LiveHub(self.settings.live_tick_s, self.settings.live_max_viewers,
                                on_accounts=lambda accounts: setattr(self.pipeline, "live_accounts", accounts))
        self.push_back = PushBack(lambda: self.pending_samples > self.settings.max_pending_samples)

    def settle(self) -> None:
        """Return once everything received so far is stored and summarised: the reports with the report
        workers first (call it from another thread than the event loop's)."""
        if self.reports is not None and not self.reports.drain():
            raise TimeoutError("the report workers did not finish within 60 s")
        self.pipeline.settle()

    @property
    def pending_samples(self) -> int:
        """Samples received and not yet committed, reports still with the report workers included: what
        ingest's backpressure looks at."""
        return self.pipeline.pending_samples + (self.reports.pending_samples if self.reports else 0)


COMMIT_TIMEOUT_S = 60
# How long an answer waits, after the commit, for the summaries of what it committed: long enough
# that a list read after the answer shows it when the server keeps up, short enough that a summariser
# behind on other rooms does not hold the sender (the summary follows anyway).
SUMMARY_WAIT_S = 0.5
log = logging.getLogger(__name__)


def accepting(svc: Services) -> None:
    """Refuse HTTP ingest while the writer is saturated, before reading what would only queue up."""
    waiting = svc.pending_samples
    if waiting > svc.settings.max_pending_samples:
        raise Saturated(f"the writer is behind ({waiting} samples waiting): send again later", retry_after_s=2)


async def committed(stored: Future[None] | None) -> None:
    """Return once what was submitted is committed to the store: a 2xx means that (docs/durability.md)."""
    assert stored is not None
    try:
        await asyncio.wait_for(asyncio.wrap_future(stored), COMMIT_TIMEOUT_S)
    except TimeoutError:
        raise Saturated(f"the writer did not commit this within {COMMIT_TIMEOUT_S} s: send it again",
                        retry_after_s=5) from None


async def stored_and_summarised(pipeline: Pipeline, summary_wait_s: float = SUMMARY_WAIT_S, **records: Any) -> None:
    """Submit records and return once they are committed and their rooms summarised. A 2xx means
    committed (docs/durability.md): a summary that fails is logged, not answered, as its rooms stay
    due and a later round summarises them; one that takes longer than `summary_wait_s` is not awaited."""
    stored: Future[None] = Future()
    summarised = pipeline.submit(wait=True, stored=stored, **records)
    await committed(stored)
    assert summarised is not None
    try:
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(summarised)), summary_wait_s)
    except TimeoutError:
        log.info("summaries of committed data are late: answering without them")
    except Exception:
        log.exception("summaries of committed data failed: their rooms are summarised on a later round")


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("authentication required: HTTP Basic with AccountSid:AuthToken or ApiKeySid:Secret")
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("authentication failed: malformed Basic credentials") from None
    return authenticate(services(request).store, username, password)


def scope(request: Request) -> Scope:
    """The principal's scope; `AccountSid=AC…` lets a parent read one of its subaccounts' lists."""
    p = principal(request)
    chosen = request.query_params.get("AccountSid")
    if chosen is None:
        return Scope(p.account_sid, p.reachable)
    if not is_sid(chosen, "AC"):
        raise BadRequest(f"AccountSid: expected AC followed by 32 hex digits, got {chosen!r}")
    if normalise_sid(chosen) not in p.reachable:
        raise NotFound(f"account {chosen} not found")
    return Scope(normalise_sid(chosen), p.reachable)


def base_url(request: Request) -> str:
    """The base of the URLs the API answers with: `public_url`, else the address and port the request
    arrived on. Never the Host header: any client sends any Host it likes, and links in our answers must
    not point at a host of its choosing (docs/security.md)."""
    configured = services(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    scheme = request.url.scheme
    server = request.scope.get("server")
    if not server or server[1] is None:
        return str(request.base_url).rstrip("/")
    host, port = server
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(scheme)
    root: str = request.scope.get("root_path", "")
    return f"{scheme}://{host}" + ("" if port == default else f":{port}") + root


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def sid_param(value: str, prefix: str, name: str) -> str:
    if not is_sid(value, prefix):
        raise NotFound(f"{name} {value!r} not found (expected {prefix} followed by 32 hex digits)")
    return normalise_sid(value)
