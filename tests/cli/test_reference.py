"""docs/cli.md is current and covers every command, option and exit code.

Its content is rendered from the click objects by rtscope.cli.reference; the checked-in file was
read by hand once (sections, option tables, examples, the exit-code table against each command's
actual behaviour in tests/cli/test_*.py) and must then only change through the generator.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from rtscope.cli import COMMANDS, cli
from rtscope.cli.reference import markdown

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs" / "cli.md"


def test_docs_cli_md_is_what_the_generator_prints() -> None:
    printed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == markdown()
    assert DOCS.read_text(encoding="utf-8") == printed, (
        "docs/cli.md is stale: run 'python scripts/gen_cli_docs.py > docs/cli.md' (make docs)"
    )


def test_every_command_and_visible_option_is_documented() -> None:
    text = markdown()
    ctx = click.Context(cli, info_name="rtscope")
    for name in COMMANDS:
        assert f"## `rtscope {name}`" in text
        assert f"(#rtscope-{name})" in text  # listed in the index
        command = cli.get_command(ctx, name)
        assert command is not None
        section = text.split(f"## `rtscope {name}`", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert f"`{param.opts[0]}`" in section, f"{name}: {param.opts[0]} missing"
            if isinstance(param, click.Argument):
                assert param.make_metavar(click.Context(command)) in section
        assert "**Examples:**" in section


def test_exit_code_table_names_every_code_the_cli_uses() -> None:
    table = markdown().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 130 |"):
        assert code in table


def test_options_render_their_values_and_defaults() -> None:
    text = markdown()
    assert "| `--fail-on` | `error` \\| `warning` \\| `info` \\| `never` | `error` |" in text
    assert "| `-o`, `--output` | `FILE` |  | **Required.** The capture file to write" in text
    assert "| `--findings`, `--no-findings` |" in text
