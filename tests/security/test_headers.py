"""Security headers on every kind of response, framing refused in a real browser, the API reference
served from our own copy of Swagger UI, and API links that never echo a client's Host header."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from security.hostile import Server
from video_insights.web.pages.render import SWAGGER_UI
from video_insights.web.security_headers import CONTENT_SECURITY_POLICY

PATHS = ["/login", "/rooms", "/healthz", "/v1/Video/Rooms", "/static/app.js", "/no-such-page", "/docs/api",
         "/openapi.json"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_headers(server: Server, path: str) -> None:
    r = httpx.get(server.url + path, headers={"accept": "text/html"}, follow_redirects=False)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp and "unsafe-inline" not in csp.split(
        "script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


def test_console_pages_allow_no_inline_style_either(server: Server) -> None:
    assert "style-src 'self';" in CONTENT_SECURITY_POLICY
    r = httpx.get(server.url + "/login")
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_another_site_cannot_frame_the_console(browser: Any, server: Server) -> None:
    """A page of another origin frames /login and /rooms: Chromium must refuse to render them."""
    context = browser.new_context()
    page = context.new_page()
    evil = "http://evil.test/"
    page.route(evil, lambda route: route.fulfill(content_type="text/html", body=(
        f'<iframe id="a" src="{server.url}/login"></iframe><iframe id="b" src="{server.url}/rooms"></iframe>')))
    page.goto(evil)
    page.wait_for_timeout(1000)
    assert len(page.frames) == 3
    for frame in page.frames[1:]:
        # A refused frame is Chromium's error page: none of the console's markup reaches it.
        assert frame.url.startswith("chrome-error://"), frame.url
        assert frame.evaluate("document.querySelector('form, main, #username') === null"), frame.url
    context.close()


def test_api_reference_is_served_from_our_own_copy(browser: Any, server: Server) -> None:
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{server.url}/docs/api")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert "Video Insights" in page.inner_text(".info")
    foreign = [u for u in requests if urlsplit(u).netloc not in (urlsplit(server.url).netloc, "")
               and not u.startswith("data:")]
    assert foreign == [], f"the API reference fetched from elsewhere: {foreign}"
    assert f"/static/{SWAGGER_UI}-bundle.js" in " ".join(requests)
    assert violations == []
    page.screenshot(path="/tmp/video-insights-screenshots/api-docs.png")
    context.close()


def test_swagger_ui_is_pinned_with_its_licence(server: Server) -> None:
    assert SWAGGER_UI == "swagger-ui-5.36.0"
    for suffix in ("-bundle.js", ".css", ".LICENSE.txt"):
        assert httpx.get(f"{server.url}/static/{SWAGGER_UI}{suffix}").status_code == 200
    assert "Apache License" in httpx.get(f"{server.url}/static/{SWAGGER_UI}.LICENSE.txt").text


def test_api_links_never_echo_the_host_header(server: Server) -> None:
    """With public_url unset, links are built from the address the request arrived on."""
    with server.client(server.creds) as c:
        body = c.get("/v1/Video/Rooms", headers={"host": "evil.example"}).json()
    links = [v for k, v in body["meta"].items() if k.endswith("url") and v]
    assert links and all(link.startswith(server.url + "/") for link in links), links
    assert "evil.example" not in str(body)
