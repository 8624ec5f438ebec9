"""``rtscope analyze`` end to end through the console entry point (exit codes, both formats)."""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from rtscope.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
SEEDS = FIXTURES / "seeds"
# the seeds as bare-event JSONL (the raw .txt logs need the pasted-log importer)
SEED_FILES = [str(p) for p in sorted(SEEDS.glob("*.txt"))]
CAPTURES = FIXTURES / "captures"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["analyze", *args])
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_text_output_fits_80_columns_and_ends_with_a_summary(capsys):
    code, out, err = run(capsys, *SEED_FILES)
    assert code == 1 and err == ""
    lines = out.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "\x1b[" not in out  # colors only on a terminal
    assert lines[-1] == (
        "5 file(s), 5 connection(s), 64 message(s): 4 error(s), 1 warning(s), 0 info"
    )
    assert "text-only-response" in out and "fix: " in out and "evidence: " in out


def test_most_severe_first_within_a_connection(capsys):
    code, out, _ = run(capsys, str(next(SEEDS.glob("002_*.txt"))))
    assert out.index("ERROR   text-only-response") < out.index("WARNING sent-before-session")


def test_json_document_shape(capsys):
    code, out, _ = run(capsys, *SEED_FILES, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert set(doc) == {"version", "inputs", "findings", "summary"} and doc["version"] == 1
    names = [i["name"] for i in doc["inputs"]]
    assert names == SEED_FILES
    for f in doc["findings"]:
        assert set(f) == {
            "rule",
            "severity",
            "conn",
            "seq",
            "t",
            "message",
            "details",
            "hint",
            "input",
        }
    assert doc["summary"]["findings"] == {"error": 4, "warning": 1, "info": 0}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], 0),  # clean capture
        (["--fail-on", "info"], 0),
    ],
)
def test_clean_capture_exits_0(capsys, args, expected):
    code, out, _ = run(capsys, str(CAPTURES / "ga-audio-turn.jsonl"), *args)
    assert code == expected
    assert "0 error(s), 0 warning(s), 0 info" in out


def test_fail_on_threshold(capsys):
    early = str(CAPTURES / "ga-early-item.jsonl")  # one warning
    assert run(capsys, early)[0] == 0
    assert run(capsys, early, "--fail-on", "warning")[0] == 1
    assert run(capsys, *SEED_FILES, "--fail-on", "never")[0] == 0


def test_select_and_ignore(capsys):
    code, out, _ = run(
        capsys, *SEED_FILES, "--select", "sent-before-session-created", "--format", "json"
    )
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"sent-before-session-created"}
    assert code == 0  # a warning only
    code, out, _ = run(
        capsys,
        *SEED_FILES,
        "--ignore",
        "text-only-response,response-never-done",
        "--format",
        "json",
    )
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert rules == {"sent-before-session-created", "invalid-client-event"}


def test_unknown_rule_is_a_usage_error(capsys):
    code, _, err = run(capsys, *SEED_FILES, "--select", "nope")
    assert code == 2 and "nope" in err


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_is_one_line_naming_the_known_rules(capsys, option):
    code, out, err = run(capsys, *SEED_FILES, option, "text-only-response,nope,nada")
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"rtscope: {option}: unknown rules nope, nada (known rules: ")
    # the known names are the registry's (checked against a few from docs/rules.md by hand)
    for known in ("abnormal-close", "text-only-response", "sent-before-session-created"):
        assert known in line
    assert "Traceback" not in err and "Usage:" not in err


def test_fail_on_counts_findings_at_or_above_the_threshold(capsys):
    beta = str(CAPTURES / "beta-commit-short.jsonl")  # beta-api warning, commit-too-short warning
    assert run(capsys, beta, "--fail-on", "error")[0] == 0
    assert run(capsys, beta, "--fail-on", "warning")[0] == 1
    assert run(capsys, beta, "--fail-on", "info")[0] == 1  # a warning is above info
    assert run(capsys, beta, "--fail-on", "never")[0] == 0


def test_bad_input_is_one_line_and_the_rest_is_still_analyzed(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "session.update", "session": {}}\n{not json\n{"type":"error"}\n')
    good = CAPTURES / "beta-never-done.jsonl"
    code, out, err = run(capsys, str(bad), str(good))
    assert code == 2
    (line,) = err.splitlines()
    assert re.match(rf"rtscope: {re.escape(str(bad))}:2: not valid JSON", line)
    assert "Traceback" not in err
    assert "response-never-done" in out
    code, out, _ = run(capsys, str(bad), str(good), "--format", "json")
    doc = json.loads(out)
    assert code == 2 and doc["summary"]["unreadable"] == 1
    assert doc["inputs"][0]["error"].startswith(f"{bad}:2: not valid JSON")


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, str(tmp_path / "nope.jsonl"))
    assert code == 2 and "no such file" in err and len(err.splitlines()) == 1


# CaptureReader on this branch leaks the file under a GzipFile (fixed on main in ac01e8b).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_gzip_and_stdin(capsys, tmp_path, monkeypatch):
    src = CAPTURES / "ga-collision.jsonl"
    gz = tmp_path / "cap.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    code, out, _ = run(capsys, str(gz), "--format", "json")
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"active-response-collision"}

    class Stdin:
        buffer = io.BytesIO(src.read_bytes())

    monkeypatch.setattr("sys.stdin", Stdin)
    code, out, _ = run(capsys, "-", "--format", "json")
    doc = json.loads(out)
    assert doc["inputs"][0]["name"] == "<stdin>"
    assert {f["rule"] for f in doc["findings"]} == {"active-response-collision"}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_directory_is_read_recursively_in_a_stable_order(capsys, tmp_path):
    for name in ("b/z.jsonl", "a.jsonl", "b/a.jsonl.gz"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        data = (CAPTURES / "ga-audio-turn.jsonl").read_bytes()
        (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    code, out, _ = run(capsys, str(tmp_path), "--format", "json")
    names = [Path(i["name"]).relative_to(tmp_path).as_posix() for i in json.loads(out)["inputs"]]
    assert names == ["a.jsonl", "b/a.jsonl.gz", "b/z.jsonl"]


def test_directory_skips_hidden_and_unrelated_files(capsys, tmp_path):
    shutil.copy(CAPTURES / "ga-collision.jsonl", tmp_path / "b.jsonl")
    (tmp_path / ".hidden").mkdir()
    shutil.copy(CAPTURES / "ga-collision.jsonl", tmp_path / ".hidden" / "a.jsonl")
    (tmp_path / "report.html").write_text("<html>")
    code, out, _ = run(capsys, str(tmp_path), "--format", "json")
    assert [i["name"] for i in json.loads(out)["inputs"]] == [str(tmp_path / "b.jsonl")]


def test_truncated_last_line_is_reported_with_its_line(capsys, tmp_path):
    src = (CAPTURES / "beta-never-done.jsonl").read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(src[: len(src) - 20])
    code, out, err = run(capsys, str(cut))
    assert "last line is truncated" in err and re.search(r"cut\.jsonl:\d+:", err)
    assert "response-never-done" in out


def test_text_from_the_capture_is_printed_literally(capsys, tmp_path):
    # rich would turn ":smile:" into an emoji and "[bold]" into markup
    cap = tmp_path / "odd.jsonl"
    ev = {"type": "error", "error": {"code": ":smile: [bold]x[/bold]", "message": "m"}}
    cap.write_text(json.dumps(ev) + "\n")
    code, out, _ = run(capsys, str(cap))
    assert ":smile: [bold]x[/bold]" in out


def test_colors_only_when_the_output_is_a_terminal(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # what rich does for a terminal
    code, out, _ = run(capsys, str(CAPTURES / "ga-collision.jsonl"))
    assert "\x1b[" in out


def test_debug_shows_the_traceback(tmp_path):
    from rtscope.errors import CaptureError

    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n{}\n")
    with pytest.raises(CaptureError):
        main(["--debug", "analyze", str(bad)])
