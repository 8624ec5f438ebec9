"""No idle cut: keep quiet Realtime sessions open through mitmproxy.

mitmproxy 11.0.2 closes any TCP connection idle for ``mitmproxy.proxy.server.TCP_TIMEOUT`` (600 s,
a module constant read when each connection handler is created); 12.2.1+ has the ``tcp_timeout``
option instead. Realtime sessions last up to 60 minutes and a text session may be silent for longer
than 10, so the recorder raises the limit in both places. ``0`` means "never" (a year, in practice:
the watchdog needs a number).

This changes the setting for the whole mitmproxy process, which is what a recording proxy wants.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NEVER", "apply_idle_timeout", "effective_timeout"]

#: What "no idle timeout" becomes: one year, in seconds.
NEVER = 365 * 24 * 3600


def effective_timeout(seconds: float) -> int:
    """The idle timeout to install for the option value ``seconds`` (``<= 0`` = never)."""
    return NEVER if seconds <= 0 else max(1, int(seconds))


def apply_idle_timeout(seconds: float, options: Any | None = None) -> int:
    """Install the idle timeout for connections accepted from now on; return it.

    ``options`` is mitmproxy's option manager: on versions with a ``tcp_timeout`` option it is set
    as well (the module constant is then unused by mitmproxy, but setting both is harmless).
    """
    from mitmproxy.proxy import server

    timeout = effective_timeout(seconds)
    server.TCP_TIMEOUT = timeout
    if options is not None and "tcp_timeout" in options:
        if options.tcp_timeout != timeout:
            options.update(tcp_timeout=timeout)
    return timeout
