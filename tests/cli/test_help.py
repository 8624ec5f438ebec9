"""Every command's --help has examples, and every example parses against the real command.

The examples are read from the help text the user sees (``rtscope X --help``), split into shell
commands, and each ``rtscope`` invocation is parsed by the command's own click parser: an unknown
flag, a missing required option, a bad choice or a wrong number of arguments fails the test.
Names that options take from a fixed catalog (rules, simulator scenarios, replay timings) are
checked against that catalog too.
"""

from __future__ import annotations

import shlex

import click
import pytest
from click.testing import CliRunner

from rtscope.cli import COMMANDS, cli

#: shell operators that end one command and start another (or redirect its output)
SEPARATORS = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"}


def help_text(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def examples(text: str) -> list[str]:
    """The shell lines of the "Examples:" section (continuation lines joined)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() in ("Examples:", "Example:")]
    assert starts, f"no 'Examples:' section in:\n{text}"
    out: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if not line.strip():
            break
        if out and out[-1].endswith("\\"):
            out[-1] = out[-1][:-1] + " " + line.strip()
        else:
            out.append(line.strip())
    assert out, "an empty 'Examples:' section"
    return out


def invocations(line: str) -> list[list[str]]:
    """The argument lists of each ``rtscope`` command on one shell line (comments dropped)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = list(lexer)
    found: list[list[str]] = []
    current: list[str] = []
    redirected = False
    for token in [*tokens, ";"]:
        if token in SEPARATORS:
            if current and current[0] == "rtscope":
                found.append(current[1:])
            current = []
            redirected = token in (">", ">>", "<", "2>")
            continue
        if redirected:  # the file name after > or <
            redirected = False
            continue
        current.append(token)
    # rtscope inside $(...) in another program's command line
    for token in tokens:
        if token.startswith("$(rtscope "):
            found.append(shlex.split(token[2:-1])[1:])
    return found


def parse(args: list[str]) -> tuple[click.Command, click.Context]:
    """Parse ``rtscope ARGS`` with the real parsers, running nothing."""
    group_options = []
    while args and args[0].startswith("-"):
        group_options.append(args.pop(0))
    assert args, "no command named"
    name, rest = args[0], args[1:]
    group_ctx = cli.make_context("rtscope", [*group_options, name], resilient_parsing=False)
    command = cli.get_command(group_ctx, name)
    if command is None:
        raise click.UsageError(f"no such command {name!r}")
    return command, command.make_context(name, rest, parent=group_ctx)


def all_examples() -> list[tuple[str, str]]:
    pairs = [("rtscope", line) for line in examples(help_text())]
    for name in sorted(COMMANDS):
        pairs += [(name, line) for line in examples(help_text(name))]
    return pairs


EXAMPLES = all_examples()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_shows_examples_that_use_the_command(name: str) -> None:
    used = [args[0] for line in examples(help_text(name)) for args in invocations(line) if args]
    assert name in used, f"'rtscope {name} --help' has no example of 'rtscope {name}'"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_states_its_exit_codes(name: str) -> None:
    text = " ".join(help_text(name).split())
    assert "Exit code" in text or name == "addon-path"  # addon-path only prints a path


def test_top_level_help_shows_examples_and_exit_codes() -> None:
    text = help_text()
    assert len(examples(text)) >= 4
    assert "Exit codes:" in text


@pytest.mark.parametrize(("where", "line"), EXAMPLES, ids=[f"{w}:{ln}" for w, ln in EXAMPLES])
def test_every_example_parses_with_the_real_command(where: str, line: str) -> None:
    calls = invocations(line)
    assert calls, f"no rtscope invocation in example {line!r}"
    for args in calls:
        if "--help" in args:
            continue
        try:
            command, ctx = parse(args)
        except click.UsageError as exc:
            pytest.fail(f"example {line!r} does not parse: {exc.format_message()}")
        check_catalog_values(command.name or "", ctx.params, line)


def check_catalog_values(name: str, params: dict[str, object], line: str) -> None:
    if name == "analyze":
        from rtscope.analyzers.registry import all_rules

        known = {rule.name for rule in all_rules()}
        for option in ("select", "ignore"):
            values = params.get(option) or ()
            assert isinstance(values, tuple)
            names = {n.strip() for v in values for n in str(v).split(",") if n.strip()}
            assert names <= known, f"{line!r}: unknown rule(s) {sorted(names - known)}"
    if name == "serve" and params.get("simulate"):
        from rtscope.replay.sim import SCENARIOS

        assert params["scenario"] in SCENARIOS, f"{line!r}: unknown scenario"
    if name == "replay":
        from rtscope.replay.plan import parse_timings

        parse_timings(str(params["timing"]))  # raises ValueError on a bad one


def test_a_wrong_flag_in_an_example_would_be_caught() -> None:
    # the check itself can fail: a made-up flag does not parse
    with pytest.raises(click.UsageError):
        parse(["analyze", "cap.jsonl", "--no-such-flag"])
    with pytest.raises(click.UsageError):
        parse(["replay", "cap.jsonl"])  # --target is required


def test_shell_lines_are_split_into_rtscope_invocations() -> None:
    assert invocations("cat c.jsonl | rtscope show - --no-collapse  # comment") == [
        ["show", "-", "--no-collapse"]
    ]
    assert invocations("rtscope rules --markdown > docs/rules.md") == [["rules", "--markdown"]]
    assert invocations('mitmdump -s "$(rtscope addon-path)" --set x=1') == [["addon-path"]]
