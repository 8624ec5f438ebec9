"""``rtscope serve``: a mock Realtime server from a capture, or the simulator (``--simulate``)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Any

import click

from ..errors import InputError, ReplayError
from ..replay.wsserver import Handshake, SessionLike

__all__ = ["command", "parse_listen"]


def parse_listen(value: str, allow_remote: bool) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT``) → ``(host, port)``; only 127.0.0.1 unless ``allow_remote``."""
    host, _, port_text = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise InputError("--listen", f"bad address {value!r}", hint="use 127.0.0.1:PORT") from None
    if host not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
        raise InputError(
            "--listen",
            f"{host} is not a loopback address",
            hint="add --allow-remote to listen beyond this machine",
        )
    return host, port


async def run_server(
    factory: Callable[[Handshake, float], SessionLike], host: str, port: int, what: str
) -> None:
    from ..replay.wsserver import start_server

    try:
        server = await start_server(factory, host, port)
    except OSError as exc:
        raise ReplayError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    bound = server.sockets[0].getsockname()[1]
    click.echo(f"rtscope serve: {what} on ws://{host}:{bound}/v1/realtime", err=False)
    click.echo("(the openai SDK: websocket_base_url=ws://…/v1; Ctrl-C stops)", err=True)
    async with server:
        await server.serve_forever()


@click.command("serve")
@click.argument("capture", required=False, type=click.Path())
@click.option("--simulate", is_flag=True, help="Run the Realtime simulator instead of a capture.")
@click.option("--scenario", default="default", show_default=True, help="Simulator fault scenario.")
@click.option("--list-scenarios", is_flag=True, help="List the simulator scenarios and exit.")
@click.option("--listen", default="127.0.0.1:8800", show_default=True, help="HOST:PORT (0: any).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --listen address.")
@click.option("--conn", default=None, help="Connection of the capture to serve.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Time divisor.")
@click.option("--strict", is_flag=True, help="Refuse (error + close) an unexpected message.")
@click.option("--race-delay-ms", type=int, default=300, show_default=True,
              help="modality-race: delay before a modality change applies.")  # fmt: skip
@click.option("--max-session-seconds", type=float, default=3600.0, show_default=True,
              help="Session maximum duration (the API's is 60 minutes).")  # fmt: skip
@click.option("--expiry-seconds", type=float, default=5.0, show_default=True,
              help="session-expiry: when the session expires.")  # fmt: skip
@click.option("--first-audio-delay-ms", type=int, default=3000, show_default=True,
              help="slow-first-audio: wait before the first delta.")  # fmt: skip
@click.option("--seed", type=int, default=None, help="Seed for reproducible ids.")
@click.option("-v", "--verbose", is_flag=True, help="Log connections on stderr.")
def command(
    capture: str | None,
    simulate: bool,
    scenario: str,
    list_scenarios: bool,
    listen: str,
    allow_remote: bool,
    conn: str | None,
    speed: float,
    strict: bool,
    race_delay_ms: int,
    max_session_seconds: float,
    expiry_seconds: float,
    first_audio_delay_ms: int,
    seed: int | None,
    verbose: bool,
) -> None:
    """Serve CAPTURE's server side to any client (a mock server), or run the simulator.

    \b
    Examples:
      rtscope serve cap.jsonl --listen 127.0.0.1:8800 --strict
      rtscope serve cap.jsonl --conn 2 --speed 4      # the second connection, 4× faster
      rtscope serve --simulate --scenario modality-race --listen 127.0.0.1:0
      rtscope serve --simulate --scenario session-expiry --expiry-seconds 2 --seed 1
      rtscope serve --list-scenarios

    Exit codes: 0 stopped with Ctrl-C, 2 bad capture or option, 3 cannot listen.
    """
    from ..replay.sim import SCENARIOS, SimOptions, simulator_factory

    if list_scenarios:
        for name, text in SCENARIOS.items():
            click.echo(f"{name:18} {text}")
        return
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    host, port = parse_listen(listen, allow_remote)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"rtscope serve: WARNING: listening on {host}, reachable from the network",
                   err=True)  # fmt: skip
    factory: Callable[[Handshake, float], Any]
    if simulate:
        if capture is not None:
            raise click.UsageError("give either CAPTURE or --simulate, not both")
        try:
            options = SimOptions(
                scenario=scenario,
                race_delay_ms=race_delay_ms,
                max_session_s=max_session_seconds,
                expiry_s=expiry_seconds,
                first_audio_delay_ms=first_audio_delay_ms,
                seed=seed,
            )
        except ValueError as exc:
            raise InputError("--scenario", str(exc)) from None
        factory = simulator_factory(options)
        what = f"simulator (scenario {scenario})"
    else:
        if capture is None:
            raise click.UsageError("give a CAPTURE to serve, or --simulate")
        from ..replay.playback import Playback, script_of
        from ..replay.recording import load_recording

        recording = load_recording(capture, conn)
        # What every connection shares is built once, here (a connection then costs only its
        # first block), and, like the recording, lives as long as the server: keep the garbage
        # collector's full passes from scanning it (a 5-minute session is ~17 000 records):
        # such a pass stalls every client.
        script_of(recording)
        gc.collect()
        gc.freeze()

        def factory(handshake: Handshake, now: float) -> Playback:
            return Playback(recording, now, speed=speed, strict=strict)

        what = f"{capture} (connection {recording.conn}{', strict' if strict else ''})"
    asyncio.run(run_server(factory, host, port, what))
