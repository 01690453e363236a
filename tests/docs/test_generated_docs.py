"""Docs that describe code are generated from it; this fails when they are stale
(run `python -m video_insights.docs_gen`)."""

from pathlib import Path

import pytest

from video_insights.docs_gen import render

DOCS = sorted((Path(__file__).parents[2] / "docs").glob("*.md"))


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_generated_blocks_are_current(path):
    text = path.read_text()
    assert render(text) == text, f"{path.name} is stale: run python -m video_insights.docs_gen"


def test_readme_opens_with_the_two_commands():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    # .ci/run reads the two commands from the README (its lines that start a venv) and runs them as written.
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv ")]
    assert len(commands) == 2, commands
    first, tests = commands
    assert first.endswith("pip install -e . && video-insights serve --demo"), "the first installs no extras"
    assert "pytest" in tests and "ruff check ." in tests and "mypy" in tests
    assert "grep -m\"$1\" '^python3 -m venv ' README.md" in ci
    assert 'bash -c "$first"' in ci and 'bash -c "$tests"' in ci.splitlines()
    assert "video-insights serve --demo" in readme.split("```")[1]
