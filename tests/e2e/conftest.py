"""What the end-to-end tests share: Chromium with fake media that gathers loopback candidates, a
page server for the call page, and a server that summarises a second after telemetry arrives."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, LiveServer, make_account
from support import Creds, serving
from video_insights.app import create_app
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.web.pages.render import STATIC

HERE = Path(__file__).parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    # The relay listens on 127.0.0.1; Chromium leaves loopback out of ICE unless told otherwise.
    "--allow-loopback-in-peer-connection",
    # Four calls share two cores: a page in the background must keep its timers and its encoders.
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def e2e_settings(path: Path) -> Settings:
    return Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20, summary_delay_s=1.0)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service for a whole module (its calls share it): summaries a second after telemetry."""
    path = tmp_path_factory.mktemp("e2e") / "vi.duckdb"
    store = DuckDBStore(path)
    store.migrate()
    settings = e2e_settings(path)
    app = create_app(settings, store=store)
    with serving(app) as url:
        yield LiveServer(url, settings, store, app)
    store.close()


@pytest.fixture(scope="module")
def account(service: LiveServer) -> Creds:
    return make_account(service.store)


@pytest.fixture(scope="module")
def call_browser(browser: Any) -> Iterator[Any]:
    """A Chromium of its own (the shared one lacks the loopback flag), from the same Playwright."""
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


class _Pages(BaseHTTPRequestHandler):
    pages: dict[str, tuple[str, str]] = {}

    def do_GET(self) -> None:
        found = self.pages.get(self.path.split("?")[0])
        body = found[1].encode() if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", found[0] if found else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        # Cross-origin isolation gives performance.now() 5 µs steps instead of 100 µs: the
        # collector's cost per sample is measured with it.
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_server() -> Iterator[Callable[..., str]]:
    """`page_server(path, html)` serves `html` at `path` (the app's own origin, not the service's)
    and returns its URL (`content_type` for other than HTML); `/call.js` is the loopback call,
    `/sdk_insights.js` wires twilio-video.js's insights code to it, `/collector.js` is a copy of the
    collector."""
    pages: dict[str, tuple[str, str]] = {
        "/call.js": ("text/javascript", (HERE / "call.js").read_text()),
        "/sdk_insights.js": ("text/javascript", (HERE / "sdk_insights.js").read_text()),
        # The collector bundled with the app, as a page that must not depend on the service would.
        "/collector.js": ("text/javascript", (STATIC / "collector.js").read_text()),
    }
    handler = type("Pages", (_Pages,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def serve(path: str, html: str, content_type: str = "text/html") -> str:
        pages[path] = (content_type, html)
        return base + path

    yield serve
    server.shutdown()
    server.server_close()
