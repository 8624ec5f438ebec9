"""wsproto's frame masking with websockets' C XOR: byte for byte wsproto's own, used only by
``rtscope record``'s proxy, and left alone when it cannot be proven the same."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from wsproto.frame_protocol import XorMaskerSimple

from rtscope.errors import RecorderError
from rtscope.proxy import wsmask
from rtscope.proxy.master import RecordConfig, RecordProxy

from .conftest import StartProxy, only_capture, records
from .realtime_server import RealtimeServer

WSPROTO_PROCESS = XorMaskerSimple.process


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    yield
    wsmask.uninstall()
    assert XorMaskerSimple.process is WSPROTO_PROCESS


@settings(max_examples=300, deadline=None)
@given(
    key=st.binary(min_size=4, max_size=4),
    pieces=st.lists(st.binary(max_size=300), max_size=8),
)
def test_masks_every_piece_as_wsproto_does_key_rotation_included(
    key: bytes, pieces: list[bytes]
) -> None:
    assert wsmask.install()
    theirs, ours = XorMaskerSimple(key), XorMaskerSimple(key)
    for piece in pieces:
        assert ours.process(piece) == WSPROTO_PROCESS(theirs, piece)
        assert ours._masking_key == theirs._masking_key


def test_a_bytearray_piece_gives_bytes_as_wsproto_does() -> None:
    assert wsmask.install()
    out = XorMaskerSimple(b"abcd").process(bytearray(b"hello, world"))
    assert type(out) is bytes
    assert out == WSPROTO_PROCESS(XorMaskerSimple(b"abcd"), b"hello, world")


def test_install_swaps_the_method_and_uninstall_puts_it_back() -> None:
    assert wsmask.install() and wsmask.install()  # twice: still one original kept
    assert XorMaskerSimple.process is wsmask.fast_process
    assert wsmask.installed()
    wsmask.uninstall()
    wsmask.uninstall()
    assert XorMaskerSimple.process is WSPROTO_PROCESS
    assert not wsmask.installed()


def test_without_websockets_speedups_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "websockets.speedups", None)  # import fails
    assert not wsmask.install()
    assert XorMaskerSimple.process is WSPROTO_PROCESS


def test_a_replacement_that_differs_on_the_self_test_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def wrong(data: bytes, mask: bytes) -> bytes:  # ignores the key's rotation
        return bytes(b ^ mask[0] for b in data)

    monkeypatch.setattr(wsmask, "_apply_mask", lambda: wrong)
    assert not wsmask.install()
    assert XorMaskerSimple.process is WSPROTO_PROCESS


async def test_record_uses_it_while_running_and_relays_client_frames_intact(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    proxy, port = await start_proxy()
    assert XorMaskerSimple.process is wsmask.fast_process
    # sizes around the 7- and 16-bit length encodings and a 4 KB audio-sized frame, all masked
    # by the client, unmasked and masked again by the proxy; the server echoes binary frames
    sizes = [0, 1, 3, 125, 126, 4097, 65535, 65536, 200_001]
    payloads = [os.urandom(n) for n in sizes]
    async with connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m", max_size=None) as ws:
        assert "session.created" in await ws.recv()
        for payload in payloads:
            await ws.send(payload)
            assert await ws.recv() == payload
    assert realtime_server.connections[0].received == payloads
    await proxy.stop()
    assert XorMaskerSimple.process is WSPROTO_PROCESS
    sent = [r for r in records(only_capture(tmp_path / "captures")) if r.get("from") == "client"]
    assert [r["size"] for r in sent] == sizes


async def test_a_proxy_that_cannot_listen_leaves_wsproto_as_it_was(
    tmp_path: Path, confdir: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proxy = RecordProxy(
            RecordConfig(listen_port=port, out=tmp_path / "c", confdir=str(confdir), quiet=True)
        )
        with pytest.raises(RecorderError):
            await proxy.start()
    assert XorMaskerSimple.process is WSPROTO_PROCESS
