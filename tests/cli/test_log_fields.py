"""JSON log lines carry the fields log pipelines key on: an RFC 3339 timestamp, severity and message."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import structlog

from datacontrols.logging import configure_logging


def test_json_lines_have_timestamp_severity_and_message() -> None:
    stream = io.StringIO()
    try:
        configure_logging("info", "json", stream=stream)
        structlog.get_logger("datacontrols").warning("run_failed", error="boom")
        logging.getLogger("some.library").error("plain stdlib line")
    finally:
        configure_logging("warning", "console", stream=io.StringIO())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["severity"], line["message"]) for line in lines] == [
        ("WARNING", "run_failed"),
        ("ERROR", "plain stdlib line"),
    ]
    for line in lines:
        stamp = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
        assert stamp.tzinfo is not None, "RFC 3339: with its offset"
    assert lines[0]["error"] == "boom" and lines[0]["event"] == "run_failed"
