"""The signature checks docs/alerts.md gives receivers (Python and Node) accept the signature a
delivery carries and refuse a changed body or a wrong secret."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from video_insights.alerts.outbox import sign

DOC = (Path(__file__).parents[2] / "docs" / "alerts.md").read_text()
SECRET, BODY = "s3cr3t-ü", b'{"alert_sid":"NO1","value":10.5}'


def _block(lang: str) -> str:
    found = re.search(rf"```{lang}\n(.*?)```", DOC, re.S)
    assert found, f"no {lang} block in docs/alerts.md"
    return found.group(1)


def test_the_python_check_in_the_docs() -> None:
    scope: dict[str, Any] = {}
    exec(_block("python"), scope)
    verify = scope["verify"]
    assert verify(SECRET, BODY, sign(SECRET, BODY))
    assert not verify(SECRET, BODY + b" ", sign(SECRET, BODY))
    assert not verify("other", BODY, sign(SECRET, BODY))
    assert not verify(SECRET, BODY, "")


def test_the_node_check_in_the_docs() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = _block("js") + (
        "const [secret, body, header] = process.argv.slice(1);\n"
        "process.stdout.write(String(verify(secret, Buffer.from(body), header)));\n")
    good = sign(SECRET, BODY)
    for body, header, expected in ((BODY, good, "true"), (BODY + b" ", good, "false"), (BODY, "sha256=00", "false")):
        r = subprocess.run([node, "-e", script, SECRET, body.decode(), header], capture_output=True, text=True,
                           timeout=30, check=True)
        assert r.stdout == expected, r.stderr
