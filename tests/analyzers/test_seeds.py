"""The seeds (real user reports) give what ../shared/seeds/README.md says, and nothing at warning
or above that it does not name. Expectations below are transcribed from that README."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from rtscope.analyzers import Severity, analyze

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"


def serious(findings):
    return sorted((f.rule, f.seq) for f in findings if f.severity >= Severity.WARNING)


def test_000_second_answer_is_text_only_from_the_modality_race_first_is_not_flagged(seed):
    findings = analyze(seed("000"))
    (f,) = [f for f in findings if f.severity >= Severity.WARNING]
    assert f.rule == "text-only-response"
    assert f.details["cause"] == "modality-switch-race"
    assert f.details["response_id"] == "resp_BUZvwuLgR3NaCJa4DGdZd"  # not resp_BUZTF… (text era)
    assert f.details["updated_seq"] == 5  # the session.updated that switched modalities
    assert "session.updated" in f.hint and "modalities" in f.hint


def test_001_is_a_response_that_never_completed_not_an_ordering_mistake(seed):
    findings = analyze(seed("001"))
    assert serious(findings) == [("response-never-done", 6)]
    (f,) = findings
    assert "rate_limits.updated" in f.message
    assert "not caused by the request order" in f.hint


def test_002_early_item_system_history_and_text_only_answer(seed):
    findings = analyze(seed("002"))
    assert serious(findings) == [("sent-before-session-created", 0), ("text-only-response", 30)]
    early, text_only = findings
    assert early.details["gap_ms"] == 67  # 11:45:05.178 → 11:45:05.246
    assert text_only.details["cause"] == "text-history"
    assert text_only.details["system_item_seqs"] == [0]


def test_003_background_log_has_no_finding(seed):
    assert serious(analyze(seed("003"))) == []


def test_004_names_the_wrong_content_type_and_the_unknown_key(seed):
    findings = analyze(seed("004"))
    assert serious(findings) == [("invalid-client-event", 3)]
    (f,) = findings
    paths = {p["path"]: p for p in f.details["problems"]}
    assert paths["$.item.content[0].type"]["allowed"] == ["input_text", "input_audio"]
    assert "$.item.content[0].input_text" in paths
    # the assistant item with type "text" is valid in beta: not flagged
    assert f.seq == 3


def test_checked_in_jsonl_is_what_the_extractor_gives():
    # The .jsonl files were reviewed by hand against the .txt logs; this keeps them reproducible.
    spec = importlib.util.spec_from_file_location("extract", SEEDS / "extract.py")
    assert spec is not None and spec.loader is not None
    extract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extract)
    for txt in sorted(SEEDS.glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        events = (
            extract.extract_yaml(text)
            if "yaml" in txt.name
            else extract.extract_json(text, txt.name)
        )
        lines = txt.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == events, txt.name
