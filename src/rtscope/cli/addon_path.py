"""``rtscope addon-path``: print the mitmproxy script to load with ``mitmdump -s``."""

from __future__ import annotations

import click

__all__ = ["command", "script_path"]


def script_path() -> str:
    """Absolute path of :mod:`rtscope.proxy.script` (found without importing mitmproxy)."""
    from importlib.util import find_spec

    spec = find_spec("rtscope.proxy.script")
    assert spec is not None and spec.origin is not None
    return spec.origin


@click.command("addon-path")
def command() -> None:
    """Print the path of the recorder's mitmproxy script.

    \b
    mitmdump -s "$(rtscope addon-path)" --mode reverse:https://api.openai.com@8765 \\
        --set rtscope_dir=captures
    """
    click.echo(script_path())
