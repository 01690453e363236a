"""The participant summary page (`/rooms/{RoomSid}/participants/{ParticipantSid}`) with its quality graphs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
