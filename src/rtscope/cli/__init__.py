"""The ``rtscope`` command: a click group whose subcommands load lazily.

Each subcommand lives in ``rtscope/cli/<name>.py`` as a click command called ``command``; it is
imported only when used, so ``rtscope analyze`` never pays for importing mitmproxy.

Exit codes (documented in docs/cli.md):

- 0: success (and, for ``analyze``, no finding at or above ``--fail-on``);
- 1: findings at or above ``--fail-on`` (``analyze``), divergence (``diff``);
- 2: bad usage or unusable input: one line ``rtscope: <file>:<line>: <problem> (<fix>)``;
- 3: the recorder, replay or server could not run (port taken, upstream unreachable…).
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import click

from .._version import __version__
from ..errors import InputError, RtscopeError

__all__ = ["main"]

#: name → (module, one-line help). Modules are imported on first use.
COMMANDS: dict[str, tuple[str, str]] = {
    "record": ("record", "Run a recording proxy in front of a Realtime API server."),
    "addon-path": ("addon_path", "Print the path of the mitmproxy addon script (mitmdump -s)."),
    "analyze": ("analyze", "Find protocol problems in captures, HAR files, flows or pasted logs."),
    "rules": ("rules", "List the analysis rules, or print one rule's documentation."),
    "show": ("show", "Print a capture as a terminal timeline."),
    "report": ("report", "Write a self-contained HTML report of one or more captures."),
    "export": ("export", "Export a capture as HAR or as WAV files."),
    "import": ("import_", "Convert HAR, mitmproxy flows or pasted logs into a capture."),
    "replay": ("replay", "Re-send a capture's client side to a server and compare."),
    "serve": ("serve", "Serve a capture's server side (mock server), or run the simulator."),
    "diff": ("diff", "Compare the event sequences of two captures."),
    "demo": ("demo", "Run the end-to-end demo offline (make demo)."),
}

EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_RUNTIME = 3


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        try:
            module = importlib.import_module(f"rtscope.cli.{entry[0]}")
        except ModuleNotFoundError as exc:
            if exc.name == f"rtscope.cli.{entry[0]}":
                return _unavailable(cmd_name, entry[1])
            raise
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text + " (not available in this build)")
    def missing() -> None:
        raise click.UsageError(f"'{name}' is not available in this build of rtscope")

    return missing


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  rtscope record --live                  # proxy on ws://127.0.0.1:8765 → api.openai.com
  rtscope analyze captures/              # findings for every capture in a directory
  rtscope analyze forum-post.txt         # or for events pasted from a log or a forum post
  rtscope show cap.jsonl                 # a timeline of one session
  rtscope report cap.jsonl -o bug.html   # one HTML file to attach to a bug report
  rtscope replay cap.jsonl --target ws://127.0.0.1:8800/v1/realtime --repeat 5
  rtscope demo                           # all of it, offline, against the simulator
  rtscope analyze --help                 # every command has its own help and examples

\b
Exit codes: 0 ok, 1 findings (analyze) or divergence (diff), 2 bad input or usage,
3 runtime failure (port taken, server unreachable), 130 interrupted.
""",
)
@click.version_option(__version__, prog_name="rtscope")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """rtscope: record, analyze and replay OpenAI Realtime API sessions."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point: RtscopeError → one line on stderr and its exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        rv = cli.main(args=args, prog_name="rtscope", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("rtscope: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        # One line, like every other bad input: what is wrong, then where to look.
        where = exc.ctx.command_path if exc.ctx is not None else "rtscope"
        message = " ".join(exc.format_message().split())
        click.echo(f"rtscope: {message} (see '{where} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except InputError as exc:
        if debug:
            raise
        click.echo(f"rtscope: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except RtscopeError as exc:
        if debug:
            raise
        click.echo(f"rtscope: {exc}", err=True)
        sys.exit(EXIT_RUNTIME)
    except KeyboardInterrupt:
        click.echo("rtscope: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
