"""mitmproxy flow files, read through mitmproxy's FlowReader; checked against mitmproxy itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mitmproxy.io import FlowReader, FlowWriter
from mitmproxy.test import tflow

from rtscope.capture.importers import FlowSource
from rtscope.capture.sources import open_source
from rtscope.errors import CaptureError

HAR = Path(__file__).parents[2] / "fixtures" / "har"


def mitmproxy_flows(path: Path) -> list:
    with open(path, "rb") as handle:
        return list(FlowReader(handle).stream())


def test_flow_file_gives_every_message_as_mitmproxy_read_it() -> None:
    source = open_source(HAR / "session.mitm")
    assert isinstance(source, FlowSource)
    records = list(source)
    ws = [f for f in mitmproxy_flows(HAR / "session.mitm") if f.websocket][0]
    assert [r["kind"] for r in records] == ["open"] + ["msg"] * len(ws.websocket.messages) + [
        "close"
    ]
    assert records[0]["url"] == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert records[0]["request_headers"]["authorization"] == "[REDACTED]"
    assert records[0]["status"] == 101
    for record, message in zip(records[1:-1], ws.websocket.messages, strict=True):
        assert record["t"] == pytest.approx(message.timestamp, abs=1e-6)  # µs in captures
        assert record["from"] == ("client" if message.from_client else "server")
        if message.is_text:
            assert record["event"] == json.loads(message.content)
        else:
            assert record["data_b64"] and record["size"] == len(message.content)
    close = records[-1]
    assert (close["code"], close["reason"], close["by"], close["t"]) == (
        1000,
        "bye",
        "client",
        ws.websocket.timestamp_end,
    )
    assert {r["conn"] for r in records} == {ws.id}


def test_flow_file_without_websocket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.mitm"
    with open(path, "wb") as handle:
        FlowWriter(handle).add(tflow.tflow(resp=True))
    with pytest.raises(CaptureError) as info:
        list(open_source(path))
    assert "no WebSocket flows (the file has 1 flows)" in str(info.value)


def test_truncated_flow_file_names_the_flow(tmp_path: Path) -> None:
    data = (HAR / "session.mitm").read_bytes()
    path = tmp_path / "cut.mitm"
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(CaptureError) as info:
        list(open_source(path))
    assert info.value.problem.startswith("flow 2: cannot read")


def test_reading_a_plain_capture_does_not_import_mitmproxy(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"type":"session.created"}\n')
    code = (
        "import sys\n"
        "from rtscope.capture.sources import open_source\n"
        f"records = list(open_source({str(path)!r}))\n"
        "assert len(records) == 1\n"
        "print('mitmproxy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- real traffic: websockets server <- mitmproxy in process (-w and hardump) <- websockets client


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# mitmproxy's proxyauth addon imports ldap3, which uses a deprecated pyasn1 name (not ours)
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ldap3.*")
async def test_real_mitmproxy_recording_imports_from_flow_file_and_har(tmp_path: Path) -> None:
    import asyncio

    from mitmproxy import options
    from mitmproxy.tools.dump import DumpMaster
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def realtime_server(ws) -> None:  # type: ignore[no-untyped-def]
        await ws.send(
            json.dumps({"type": "session.created", "event_id": "e1", "session": {"id": "s1"}})
        )
        async for raw in ws:
            if isinstance(raw, bytes):
                continue
            event = json.loads(raw)
            if event["type"] == "session.update":
                await ws.send(
                    json.dumps(
                        {"type": "session.updated", "event_id": "e2", "session": event["session"]}
                    )
                )
            elif event["type"] == "response.create":
                await ws.send(
                    json.dumps(
                        {"type": "response.created", "event_id": "e3", "response": {"id": "r1"}}
                    )
                )
                await ws.send(
                    json.dumps(
                        {
                            "type": "response.done",
                            "event_id": "e4",
                            "response": {"id": "r1", "status": "completed"},
                        }
                    )
                )

    flows_path, har_path = tmp_path / "rec.mitm", tmp_path / "rec.har"
    sent: list[tuple[str, object]] = []
    async with serve(realtime_server, "127.0.0.1", 0) as server:
        upstream = server.sockets[0].getsockname()[1]
        proxy_port = free_port()
        opts = options.Options(
            listen_host="127.0.0.1",
            listen_port=proxy_port,
            mode=[f"reverse:http://127.0.0.1:{upstream}"],
        )
        master = DumpMaster(opts, with_termlog=False, with_dumper=False)
        master.options.update(save_stream_file=str(flows_path), hardump=str(har_path))
        task = asyncio.create_task(master.run())
        for _ in range(100):  # wait until the proxy listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                await asyncio.sleep(0.02)
        url = f"ws://127.0.0.1:{proxy_port}/v1/realtime?model=gpt-realtime"
        headers = {"Authorization": "Bearer sk-test-0123456789abcdefghijklmnop"}
        async with connect(url, additional_headers=headers) as ws:
            sent.append(("server", json.loads(await ws.recv())))
            for event in (
                {"type": "session.update", "session": {"voice": "ash"}},
                {"type": "response.create"},
            ):
                await ws.send(json.dumps(event))
                sent.append(("client", event))
                if event["type"] == "session.update":
                    sent.append(("server", json.loads(await ws.recv())))
            sent.append(("server", json.loads(await ws.recv())))
            sent.append(("server", json.loads(await ws.recv())))
            await ws.send(b"\x00\x01\x02")
            sent.append(("client", b"\x00\x01\x02"))
            await ws.close(1000, "bye")
        for _ in range(100):  # the flow file gets the flow at websocket_end
            if flows_path.exists() and flows_path.stat().st_size:
                break
            await asyncio.sleep(0.02)
        await master.addons.get("proxyserver").servers.update([])  # mitmproxy leaves it open
        master.shutdown()
        await task

    def seen(records: list[dict]) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        for r in records:
            if r["kind"] == "msg":
                import base64

                out.append(
                    (r["from"], r["event"] if "event" in r else base64.b64decode(r["data_b64"]))
                )
        return out

    from_flows = list(open_source(flows_path))
    assert seen(from_flows) == sent
    assert from_flows[0]["request_headers"]["authorization"] == "[REDACTED]"
    assert (from_flows[-1]["kind"], from_flows[-1]["code"], from_flows[-1]["by"]) == (
        "close",
        1000,
        "client",
    )
    from_har = list(open_source(har_path))
    assert seen(from_har) == sent
    assert from_har[0]["url"] == f"ws://127.0.0.1:{upstream}/v1/realtime?model=gpt-realtime"


def test_gzipped_flow_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "flows.mitm.gz"
    path.write_bytes(gzip.compress((HAR / "session.mitm").read_bytes()))
    records = list(open_source(path))
    assert [r["kind"] for r in records].count("msg") == 11
