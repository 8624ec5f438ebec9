"""The registry: stable kebab-case names, severities, docstrings that document."""

from __future__ import annotations

import pytest

from rtscope.analyzers import Severity, registry
from rtscope.analyzers.registry import Rule

# The names are a public contract (users put them in --select/--ignore and CI configs).
ISSUE_3_RULES = {
    "text-only-response",
    "sent-before-session-created",
    "sent-before-session-updated",
    "session-update-rejected",
    "update-not-applied",
    "server-error",
    "response-failed",
    "response-incomplete",
    "response-never-done",
    "active-response-collision",
    "invalid-client-event",
    "missing-ack",
    "commit-too-short",
    "unanswered-function-call",
    "tool-output-without-response",
    "tool-output-rejected",
    "interruption-not-truncated",
    "truncate-out-of-range",
    "speech-never-stopped",
    "audio-format-mismatch",
    "transcription-failed",
    "session-expired",
    "abnormal-close",
    "dialect-mismatch",
    "rate-limit-low",
    "lifecycle-violation",
}


def test_every_rule_of_issue_3_is_registered():
    assert ISSUE_3_RULES <= set(registry.rule_names())


@pytest.mark.parametrize("rule", registry.all_rules(), ids=lambda r: r.name)
def test_rule_is_documented(rule):
    assert isinstance(rule.severity, Severity)
    doc = rule.__doc__ or ""
    assert rule.summary and len(rule.summary) <= 100
    assert "Fix:" in doc and "Example:" in doc


def test_get_rule_and_unknown_name():
    assert registry.get_rule("server-error").name == "server-error"
    with pytest.raises(KeyError, match="unknown rule"):
        registry.get_rule("nope")


def test_bad_names_and_duplicates_are_refused():
    with pytest.raises(ValueError, match="kebab-case"):

        class BadName(Rule):
            """Doc."""

            name = "Bad_Name"

    with pytest.raises(ValueError, match="registered twice"):

        class Again(Rule):
            """Doc."""

            name = "server-error"
