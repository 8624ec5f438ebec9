"""``rtscope record``: a recording proxy in front of a Realtime API server."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import signal
import sys
from pathlib import Path

import click

from ..capture.writer import ensure_private_dir
from ..errors import InputError

__all__ = ["command", "check_out_dir"]


def check_out_dir(out: Path) -> Path:
    """Create ``out`` (0700) and prove a file can be created in it, before listening."""
    try:
        directory = ensure_private_dir(out)
        if not directory.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        probe = directory / f".rtscope-probe-{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(
            str(out), f"output directory is not writable: {reason}", hint="choose another --out"
        ) from None
    return directory


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("record")
@click.option(
    "--upstream",
    default="https://api.openai.com",
    show_default=True,
    help="Server to forward to: https/http/wss/ws://host[:port] (Azure, another provider, local).",
)
@click.option(
    "--listen",
    "listen",
    default="127.0.0.1:8765",
    show_default=True,
    help="HOST:PORT to listen on (port 0: any free port). Only loopback without --allow-remote.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --listen address (others can then use the proxy and reach what "
    "it records).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("captures"),
    show_default=True,
    help="Directory for capture files (created 0700).",
)
@click.option(
    "--mode",
    type=click.Choice(["reverse", "regular"]),
    default="reverse",
    show_default=True,
    help="reverse: apps change their base URL; regular: an HTTPS_PROXY with mitmproxy's CA.",
)
@click.option(
    "--audio",
    type=click.Choice(["keep", "drop"]),
    default="keep",
    show_default=True,
    help="drop: store audio as size + sha256 (shareable, not replayable).",
)
@click.option("--tls", is_flag=True, help="Advertise wss:// (TLS with a cert from mitmproxy's CA).")
@click.option(
    "--live/--no-live",
    default=True,
    show_default=True,
    help="Run the analyzers as messages pass: print each finding at once and append it to the "
    "capture (about 10 µs per message, see bench/live_cost.py).",
)
@click.option("--file", "single_file", default="", help="Write all connections to this one file.")
@click.option(
    "--confdir",
    default="~/.mitmproxy",
    show_default=True,
    help="mitmproxy's configuration directory (its CA lives there).",
)
@click.option("--quiet", "-q", is_flag=True, help="No per-connection summary lines.")
@click.option(
    "--mapped",
    is_flag=True,
    help="Write captures through a memory map instead of one write per line (less proxy CPU on "
    "some machines), but no tail -f while recording, and a killed proxy leaves NUL bytes at the "
    "end of a capture (rtscope skips them). See docs/recording.md.",
)
@click.option(
    "--writer",
    type=click.Choice(["inline", "process", "auto"]),
    default="auto",
    show_default=True,
    help="process: a writer process encodes, writes and analyzes (--live) each message, the "
    "proxy only hands it the messages (more messages per second, on a second CPU); inline: the "
    "proxy does it all itself (less CPU per message at one session's rates, one process); "
    "auto: process where the proxy may run on two CPUs or more, else inline. See "
    "docs/recording.md.",
)
def command(
    upstream: str,
    listen: str,
    allow_remote: bool,
    out: Path,
    mode: str,
    audio: str,
    tls: bool,
    live: bool,
    single_file: str,
    confdir: str,
    quiet: bool,
    mapped: bool,
    writer: str,
) -> None:
    """Run a recording proxy: every WebSocket connection becomes a capture file.

    \b
    Point your app at the proxy instead of the API, e.g. with the openai Python SDK:
      AsyncOpenAI(websocket_base_url="ws://127.0.0.1:8765/v1")

    \b
    Examples:
      rtscope record                                  # ws://127.0.0.1:8765 → api.openai.com
      rtscope record --live --out captures/           # print findings as they happen
      rtscope record --upstream https://my-resource.openai.azure.com --listen 127.0.0.1:8766
      rtscope record --upstream ws://127.0.0.1:8800   # in front of 'rtscope serve --simulate'
      rtscope record --audio drop --file shared.jsonl # one file, audio as size + sha256
      rtscope record --mode regular                   # HTTPS_PROXY=http://127.0.0.1:8765
      rtscope record --listen 0.0.0.0:8765 --allow-remote  # reachable from the network (warns)

    Exit codes: 0 stopped with Ctrl-C, 2 bad option or output directory, 3 cannot listen.
    """
    from ..proxy.master import RecordConfig, ca_cert_path, parse_listen, proxy_mode

    host, port = parse_listen(listen)
    if not _is_loopback(host) and not allow_remote:
        raise InputError(
            "--listen",
            f"{host} is not a loopback address",
            hint="add --allow-remote to listen beyond this machine",
        )
    proxy_mode(mode, upstream)  # type: ignore[arg-type]  # bad --upstream: one line, exit 2, before anything else
    check_out_dir(out)
    config = RecordConfig(
        upstream=upstream,
        listen_host=host,
        listen_port=port,
        out=out,
        mode=mode,  # type: ignore[arg-type]
        audio=audio,  # type: ignore[arg-type]
        live=live,
        quiet=quiet,
        single_file=single_file,
        confdir=confdir,
        mapped=mapped,
        writer=writer,  # type: ignore[arg-type]
    )
    if not _is_loopback(host):
        click.echo(
            f"rtscope: WARNING: listening on {host}, not 127.0.0.1: others on the network can "
            "use this proxy and reach what it records",
            err=True,
        )
    asyncio.run(_serve(config, tls, ca_cert_path(confdir)))


async def _serve(config: object, tls: bool, ca: Path) -> None:
    from ..proxy.master import RecordConfig, RecordProxy

    assert isinstance(config, RecordConfig)
    proxy = RecordProxy(config)
    host, port = await proxy.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, proxy.shutdown)
    shown = f"[{host}]" if ":" in host else host
    scheme = "wss" if tls else "ws"
    if config.mode == "regular":
        click.echo(f"rtscope: recording proxy (regular mode) on http://{shown}:{port}")
        click.echo(f"  export HTTPS_PROXY=http://{shown}:{port}  and trust the CA {ca}")
    else:
        click.echo(f"rtscope: recording {config.upstream} on {scheme}://{shown}:{port}")
        click.echo(f"  point your app at {scheme}://{shown}:{port}/v1 (base URL)")
    if tls:
        click.echo(f"  TLS certificate from mitmproxy's CA: {ca}")
        click.echo(f"  Node:   NODE_EXTRA_CA_CERTS={ca}")
        click.echo(f"  Python: SSL_CERT_FILE={ca}  (replaces the default trust store)")
    click.echo(f"  captures: {config.out}/  (Ctrl-C to stop)")
    sys.stdout.flush()
    await proxy.wait()
    # asyncio.run cancels the connections still open after this returns; mitmproxy's stream
    # callback then logs each one's CancelledError with a traceback: not an error here
    loop.set_exception_handler(_quiet_cancellations)
    click.echo("rtscope: stopped, captures closed")


def _quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    """Drop the cancellations of connections open at shutdown; anything else as asyncio would."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)
