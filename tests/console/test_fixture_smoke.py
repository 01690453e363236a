"""The console fixture signs in to a server that holds demo data."""

from typing import Any


def test_signed_in_lands_on_the_dashboard(signed_in: Any, console: Any) -> None:
    page = signed_in()
    assert page.url == f"{console.url}/"
