"""Small checks for hand-validated wire formats: each failure names the field's path."""

from __future__ import annotations

from typing import Any

from video_insights.errors import BadRequest


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{path}: expected a JSON object, got {type_name(value)}")
    return value


def opt_str(container: dict[str, Any], key: str, path: str, *, max_len: int = 1024) -> str | None:
    v = container.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise BadRequest(f"{path}.{key}: expected a string, got {type_name(v)}")
    if len(v) > max_len:
        raise BadRequest(f"{path}.{key}: longer than {max_len} characters")
    return v


def req_str(container: dict[str, Any], key: str, path: str, *, max_len: int = 1024) -> str:
    v = opt_str(container, key, path, max_len=max_len)
    if not v:
        raise BadRequest(f"{path}.{key}: required")
    return v


def type_name(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)
