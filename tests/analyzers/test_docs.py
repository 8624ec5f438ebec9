"""docs/rules.md is generated from the rule docstrings and must be current."""

from __future__ import annotations

from pathlib import Path

from rtscope.analyzers import registry
from rtscope.analyzers.docs import listing, markdown

DOCS = Path(__file__).parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_current():
    assert DOCS.read_text(encoding="utf-8") == markdown(), (
        "docs/rules.md is stale: run `rtscope rules --markdown > docs/rules.md`"
    )


def test_markdown_has_a_section_per_rule():
    text = markdown()
    for name in registry.rule_names():
        assert f"\n## {name}\n" in text


def test_listing_has_one_line_per_rule():
    lines = listing().splitlines()
    assert [line.split()[0] for line in lines] == registry.rule_names()
