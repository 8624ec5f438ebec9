"""``rtscope record``'s proxy: mitmproxy in process with only the addons a recorder needs.

mitmdump loads 36 default addons, and every hook call walks all of them. A recording reverse proxy
needs only: ``Core`` (option checks), ``Proxyserver`` (listening, connections), ``NextLayer``
(protocol detection), ``TlsConfig`` (certificates from mitmproxy's CA, for ``--tls`` and the
upstream TLS), and the :class:`~rtscope.proxy.addon.Recorder`. Startup errors (port taken) are
raised as :class:`~rtscope.errors.RecorderError` instead of mitmproxy's ``ErrorCheck`` exit.

Its wsproto unmasks and masks client frames with websockets' C XOR (:mod:`.wsmask`), not in
Python. It also gets :class:`~rtscope.proxy.backpressure.Backpressure` on every connection: a
peer that sends faster than the proxy relays is held back by TCP instead of being queued in memory
(``RecordConfig.backlog``; the environment variable ``RTSCOPE_RECORD_BACKLOG`` sets it for
``rtscope record``, ``0`` turns it off). ``mitmdump -s`` users get it on recorded connections
(option ``rtscope_backlog``).

The pure part (turning flags into mitmproxy settings) is :func:`proxy_mode` and
:func:`parse_listen`; :class:`RecordProxy` is the I/O shell.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

from ..capture.codec import AudioMode
from ..errors import InputError, RecorderError
from .addon import Recorder, Summary, resolve_writer
from .backpressure import DEFAULT_HIGH, Backpressure

__all__ = [
    "BACKLOG_ENV",
    "DEFAULT_PORT",
    "DEFAULT_UPSTREAM",
    "RecordConfig",
    "RecordProxy",
    "backlog_limit",
    "resolve_writer",
    "ca_cert_path",
    "parse_listen",
    "proxy_mode",
]

DEFAULT_PORT = 8765
DEFAULT_UPSTREAM = "https://api.openai.com"

#: Environment variable: a connection's backlog limit in bytes for ``rtscope record`` (0: off).
BACKLOG_ENV = "RTSCOPE_RECORD_BACKLOG"

_SCHEMES = {"https": "https", "wss": "https", "http": "http", "ws": "http"}


def proxy_mode(mode: Literal["reverse", "regular"], upstream: str) -> str:
    """mitmproxy's mode spec: ``reverse:https://host[:port]`` (ws→http, wss→https) or ``regular``.

    mitmproxy's reverse spec takes no path and rejects ``ws``/``wss`` schemes.
    """
    if mode == "regular":
        return "regular"
    parts = urlsplit(upstream if "://" in upstream else f"https://{upstream}")
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise InputError(
            "--upstream", f"unsupported scheme {parts.scheme!r}", hint="use https, http, wss or ws"
        )
    if not parts.hostname:
        raise InputError(
            "--upstream", f"no host in {upstream!r}", hint="e.g. https://api.openai.com"
        )
    if parts.path not in ("", "/"):
        raise InputError(
            "--upstream",
            f"a path is not supported ({parts.path!r})",
            hint="give scheme://host[:port]; the app keeps its path, e.g. /v1/realtime",
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return f"reverse:{scheme}://{host}{port}"


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` → (host, port); the host defaults to 127.0.0.1."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise InputError("--listen", f"bad port in {text!r}", hint="use HOST:PORT") from None
    if not 0 <= port <= 65535:
        raise InputError("--listen", f"port {port} out of range", hint="use 1-65535 (0: any)")
    return host, port


def backlog_limit(configured: int | None, environ: dict[str, str] | None = None) -> int:
    """The backlog limit in bytes (0: off): ``configured``, else ``$RTSCOPE_RECORD_BACKLOG``,
    else 1 MiB."""
    if configured is not None:
        value = configured
    else:
        text = (os.environ if environ is None else environ).get(BACKLOG_ENV, "").strip()
        if not text:
            return DEFAULT_HIGH
        try:
            value = int(text)
        except ValueError:
            raise InputError(
                BACKLOG_ENV, f"not a number of bytes: {text!r}", hint="e.g. 1048576, or 0 for off"
            ) from None
    if value < 0:
        raise InputError(BACKLOG_ENV, f"negative backlog limit {value}", hint="0 turns it off")
    return value


def ca_cert_path(confdir: str) -> Path:
    """The CA certificate clients must trust for ``--tls`` or ``--mode regular``."""
    return Path(os.path.expanduser(confdir)) / "mitmproxy-ca-cert.pem"


@dataclass
class RecordConfig:
    """Everything ``rtscope record`` can be told."""

    upstream: str = DEFAULT_UPSTREAM
    listen_host: str = "127.0.0.1"
    listen_port: int = DEFAULT_PORT
    out: Path = field(default_factory=lambda: Path("captures"))
    mode: Literal["reverse", "regular"] = "reverse"
    audio: AudioMode = "keep"
    live: bool = False
    quiet: bool = False
    single_file: str = ""
    idle_timeout: int = 0
    confdir: str = "~/.mitmproxy"
    #: Write captures through a memory map (:mod:`rtscope.capture.mapped`).
    mapped: bool = False
    #: ``process``: a writer process encodes and writes (:mod:`.writer_process`); ``auto``:
    #: ``process`` where this process may run on two CPUs or more (:func:`resolve_writer`).
    #: ``auto`` by default: with the writer process ``rtscope record`` relays 2.3–2.9× bare
    #: mitmdump's messages per second (inline 1.4–2.0×) at inline's round-trip times; it costs
    #: more CPU per message at one session (docs/performance.md, sessions 7–9).
    writer: Literal["auto", "inline", "process"] = "auto"
    #: Bytes one connection may have queued in the proxy (read, not yet relayed) before the proxy
    #: stops reading it; ``0`` turns backpressure off; ``None``: ``$RTSCOPE_RECORD_BACKLOG`` or
    #: 1 MiB.
    backlog: int | None = None
    #: Extra mitmproxy options (``ssl_insecure``, ``connection_strategy``, …).
    mitmproxy_options: dict[str, Any] = field(default_factory=dict)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _startup_errors() -> Iterator[_Collect]:
    handler = _Collect()
    logger = logging.getLogger("mitmproxy")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


_RUNNING: RecordProxy | None = None


class RecordProxy:
    """mitmproxy with the recorder, in the running event loop.

    ``await start()`` listens and returns the address (port 0 picks a free one); ``await stop()``
    closes every capture. ``shutdown()`` may be called from any thread or a signal handler.
    """

    def __init__(
        self,
        config: RecordConfig,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        on_summary: Callable[[Summary], None] | None = None,
    ) -> None:
        self.config = config
        self.recorder = Recorder(out=out, err=err, on_summary=on_summary)
        limit = backlog_limit(config.backlog)
        #: None when turned off (``backlog=0``).
        self.backpressure: Backpressure | None = Backpressure(limit, err=err) if limit else None
        self.master: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def captures(self) -> Path:
        return self.config.out

    def _build(self) -> Any:
        with warnings.catch_warnings():
            # mitmproxy.addons imports ldap3, which trips pyasn1's DeprecationWarnings.
            warnings.simplefilter("ignore", DeprecationWarning)
            from mitmproxy import options
            from mitmproxy.addons import core, next_layer, proxyserver, tlsconfig
            from mitmproxy.master import Master

            from .dispatch import use_table_dispatch

        cfg = self.config
        opts = options.Options(
            listen_host=cfg.listen_host,
            listen_port=cfg.listen_port,
            mode=[proxy_mode(cfg.mode, cfg.upstream)],
            confdir=cfg.confdir,
        )
        master: Any = Master(opts, with_termlog=False)
        use_table_dispatch(master)  # hooks looked up in a table, not walked per message
        make_proxyserver: Any = proxyserver.Proxyserver  # mitmproxy's types are partial
        master.addons.add(
            core.Core(),
            make_proxyserver(),
            next_layer.NextLayer(),
            tlsconfig.TlsConfig(),
            self.recorder,
        )
        if self.backpressure is not None:
            master.addons.add(self.backpressure)
        # Lazy: connect upstream when the request is there, so an unreachable upstream gets the
        # client an HTTP 502 with the reason (and a capture), not a silently closed socket.
        settings: dict[str, Any] = {"connection_strategy": "lazy", **cfg.mitmproxy_options}
        master.options.update(
            rtscope_dir=str(cfg.out),
            rtscope_audio=cfg.audio,
            rtscope_live=cfg.live,
            rtscope_quiet=cfg.quiet,
            rtscope_file=cfg.single_file,
            rtscope_idle_timeout=cfg.idle_timeout,
            rtscope_mapped=cfg.mapped,
            rtscope_writer=resolve_writer(cfg.writer),
            **settings,
        )
        return master

    async def start(self) -> tuple[str, int]:
        """Listen; return (host, port). Raises :class:`RecorderError` if that is impossible.

        One RecordProxy per process: mitmproxy hands every new connection to its process-global
        ``ctx.master`` (``proxy/mode_servers.py``), so a second proxy would receive the first
        one's connections and write them with its own settings.
        """
        from mitmproxy import exceptions

        global _RUNNING
        if _RUNNING is not None and _RUNNING is not self:
            raise RecorderError(
                "another rtscope recording proxy is already running in this process (mitmproxy "
                "routes every connection through one global master); stop it first"
            )
        try:
            self.master = master = self._build()
        except exceptions.OptionsError as exc:
            raise RecorderError(f"bad proxy settings: {exc}") from None
        proxyserver = master.addons.get("proxyserver")
        with _startup_errors() as errors:
            ok = await proxyserver.setup_servers()
            await asyncio.sleep(0)
        if not ok or errors.messages:
            detail = "; ".join(m.splitlines()[0] for m in errors.messages if m.strip())
            host, port = self.config.listen_host, self.config.listen_port
            raise RecorderError(
                f"cannot listen on {host}:{port}: {detail or 'the proxy server did not start'}"
                " (choose another port with --listen)"
            )
        await master.running()
        from .wsmask import install as use_c_masking

        use_c_masking()  # websockets' C XOR for wsproto's frame (un)masking; undone in stop()
        _RUNNING = self
        addrs = proxyserver.listen_addrs()
        host, port = addrs[0][0], addrs[0][1]
        return str(host), int(port)

    async def wait(self) -> None:
        """Until :meth:`shutdown`; then close captures (mitmproxy's ``done`` hooks)."""
        from mitmproxy.utils import asyncio_utils

        assert self.master is not None
        with asyncio_utils.install_exception_handler(self.master._asyncio_exception_handler):
            try:
                await self.master.should_exit.wait()
            finally:
                await self.stop()

    def shutdown(self) -> None:
        """Ask the proxy to stop (thread-safe)."""
        if self.master is not None:
            self.master.shutdown()

    async def stop(self) -> None:
        """Stop listening and close every capture (idempotent)."""
        global _RUNNING
        master, self.master = self.master, None
        if master is None:
            return
        if _RUNNING is self:
            _RUNNING = None
        from .wsmask import uninstall

        uninstall()
        proxyserver = master.addons.get("proxyserver")
        try:
            await proxyserver.servers.update([])
        finally:
            await master.done()
