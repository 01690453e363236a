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
    test_command = next(line for line in readme.splitlines() if "pytest" in line and line.startswith("python3"))
    assert test_command in ci.splitlines(), "CI must run exactly the README's test command"
    assert "video-insights serve --demo" in readme.split("```")[1]
