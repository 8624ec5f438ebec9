"""The ceiling of an embedded proxy: mitmproxy in process with only the addons a reverse proxy
needs (Core, Proxyserver, NextLayer, TlsConfig) and NO recorder.

A bench candidate (``--only lean``), not a product: the distance between it and bare mitmdump is
what leaving mitmdump's 36 default addons saves; the distance between it and ``rtscope record``
(same addon set + the Recorder) is what recording costs.

    python bench/lean_proxy.py --upstream-port P --port Q
"""

from __future__ import annotations

import argparse
import asyncio
import warnings


async def run(upstream_port: int, port: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mitmproxy import options
        from mitmproxy.addons import core, next_layer, proxyserver, tlsconfig
        from mitmproxy.master import Master

    opts = options.Options(
        listen_host="127.0.0.1",
        listen_port=port,
        mode=[f"reverse:http://127.0.0.1:{upstream_port}"],
    )
    master = Master(opts, with_termlog=False)
    master.addons.add(
        core.Core(), proxyserver.Proxyserver(), next_layer.NextLayer(), tlsconfig.TlsConfig()
    )
    await master.run()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    try:
        asyncio.run(run(args.upstream_port, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
