"""Docs generated from code: the settings, the filterable fields, the issue catalog and the ClickHouse
cluster DDL.

`python -m video_insights.docs_gen` rewrites the generated blocks in docs/; a test checks they are
current.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from video_insights.model.issues import catalog_doc
from video_insights.query.fields import fields_doc
from video_insights.settings import settings_doc
from video_insights.store.clickhouse.ddl import cluster_doc

BLOCKS: dict[str, Callable[[], str]] = {"settings": settings_doc, "room-fields": fields_doc, "issues": catalog_doc,
                                        "cluster-ddl": cluster_doc}
_BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)


def render(text: str) -> str:
    def fill(m: re.Match[str]) -> str:
        return m.group(1) + BLOCKS[m.group("name")]() + m.group(4)

    return _BLOCK.sub(fill, text)


def main(docs: Path = Path("docs")) -> int:
    for path in sorted(docs.glob("*.md")):
        text = path.read_text()
        new = render(text)
        if new != text:
            path.write_text(new)
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
