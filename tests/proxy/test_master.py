"""Flag → mitmproxy settings (pure), and the lean addon set of the in-process proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.errors import InputError
from rtscope.proxy.master import (
    RecordConfig,
    RecordProxy,
    parse_listen,
    proxy_mode,
    resolve_writer,
)


@pytest.mark.parametrize(
    ("upstream", "spec"),
    [
        ("https://api.openai.com", "reverse:https://api.openai.com"),
        ("wss://api.openai.com", "reverse:https://api.openai.com"),
        ("ws://127.0.0.1:9000", "reverse:http://127.0.0.1:9000"),
        ("http://localhost:8080/", "reverse:http://localhost:8080"),
        ("my-res.openai.azure.com", "reverse:https://my-res.openai.azure.com"),
        ("https://[::1]:8443", "reverse:https://[::1]:8443"),
    ],
)
def test_upstream_maps_ws_schemes_onto_mitmproxy_reverse_specs(upstream: str, spec: str) -> None:
    assert proxy_mode("reverse", upstream) == spec


def test_regular_mode_ignores_upstream() -> None:
    assert proxy_mode("regular", "https://api.openai.com") == "regular"


@pytest.mark.parametrize(
    ("upstream", "problem"),
    [
        ("ftp://x.org", "unsupported scheme"),
        ("https://api.openai.com/v1/realtime", "a path is not supported"),
        ("https://", "no host"),
    ],
)
def test_bad_upstream_is_an_input_error(upstream: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        proxy_mode("reverse", upstream)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        (":9000", ("127.0.0.1", 9000)),
        ("9000", ("127.0.0.1", 9000)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:8765", ("::1", 8765)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["host:port", "127.0.0.1:70000", ""])
def test_parse_listen_rejects_bad_ports(text: str) -> None:
    with pytest.raises(InputError):
        parse_listen(text)


async def test_in_process_proxy_loads_only_the_lean_addon_set(
    tmp_path: Path, confdir: Path
) -> None:
    proxy = RecordProxy(
        RecordConfig(listen_port=0, out=tmp_path / "c", confdir=str(confdir), quiet=True)
    )
    await proxy.start()
    try:
        names = [type(a).__name__ for a in proxy.master.addons.chain]
    finally:
        await proxy.stop()
    assert names == ["Core", "Proxyserver", "NextLayer", "TlsConfig", "Recorder", "Backpressure"]


async def test_backlog_zero_leaves_mitmproxy_without_backpressure(
    tmp_path: Path, confdir: Path
) -> None:
    proxy = RecordProxy(
        RecordConfig(listen_port=0, out=tmp_path / "c", confdir=str(confdir), quiet=True, backlog=0)
    )
    await proxy.start()
    try:
        names = [type(a).__name__ for a in proxy.master.addons.chain]
    finally:
        await proxy.stop()
    assert proxy.backpressure is None
    assert names == ["Core", "Proxyserver", "NextLayer", "TlsConfig", "Recorder"]


@pytest.mark.parametrize(
    ("writer", "cpus", "expected"),
    [
        ("auto", 1, "inline"),  # a writer process would only add the hand-off to the one CPU
        ("auto", 2, "process"),
        ("auto", 64, "process"),
        ("inline", 64, "inline"),
        ("process", 1, "process"),  # asked for: done even on one CPU
    ],
)
def test_the_writer_runs_in_its_own_process_where_there_is_a_cpu_for_it(
    writer: str, cpus: int, expected: str
) -> None:
    assert resolve_writer(writer, cpus) == expected


def test_auto_records_inline_where_there_is_no_writer_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rtscope.proxy import addon

    monkeypatch.setattr(addon, "WRITER_PROCESS_POSSIBLE", False)  # as on Windows
    assert resolve_writer("auto", 64) == "inline"
    assert resolve_writer("process", 64) == "process"  # asked for: tried, and said if it fails
