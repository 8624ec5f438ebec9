"""``rtscope rules``: the listing, one rule's documentation, and the Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.analyzers import registry
from rtscope.cli import main

DOCS = Path(__file__).parents[2] / "docs" / "rules.md"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["rules", *args])
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_listing_names_every_rule_with_its_severity(capsys):
    code, out, _ = run(capsys)
    assert code == 0
    for rule in registry.all_rules():
        assert any(
            line.split()[:2] == [rule.name, rule.severity.label] for line in out.splitlines()
        )


def test_one_rule_prints_its_documentation(capsys):
    code, out, _ = run(capsys, "text-only-response")
    assert code == 0
    assert out.startswith("text-only-response (default severity: error)")
    assert "modality-switch-race" in out and "Fix:" in out


def test_unknown_rule_exits_2(capsys):
    code, _, err = run(capsys, "no-such-rule")
    assert code == 2 and "no-such-rule" in err


def test_markdown_is_what_docs_rules_md_holds(capsys):
    code, out, _ = run(capsys, "--markdown")
    assert code == 0 and out == DOCS.read_text(encoding="utf-8")
