"""WAV export: files read back with Python's wave module; samples compared with what was sent."""

from __future__ import annotations

import base64
import math
import stat
import struct
import wave
from pathlib import Path

from rtscope.capture import CaptureReader, CaptureWriter, message_record
from rtscope.capture.sources import open_source
from rtscope.report.audio import ulaw_encode
from rtscope.report.wav import collect_tracks, export_wav

FIXTURES = Path(__file__).parents[1] / "fixtures"
T0 = 1763700000.0


def sine(freq: float, seconds: float, rate: int, amp: int = 8000) -> list[int]:
    return [int(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate))]


def pack(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}h", *values)


def read_wav(path: Path) -> tuple[int, int, int, list[int]]:
    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        return (
            wav.getnchannels(),
            wav.getsampwidth(),
            wav.getframerate(),
            list(struct.unpack(f"<{len(frames) // 2}h", frames)),
        )


def write_capture(path: Path, events: list[tuple[bool, dict]], audio: str = "keep") -> Path:
    import orjson

    with CaptureWriter(path) as writer:
        for seq, (from_client, event) in enumerate(events):
            writer.write(
                message_record(
                    "c1", seq, T0 + seq, from_client, orjson.dumps(event), True, audio=audio
                )  # type: ignore[arg-type]
            )
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_g711_input_and_pcm16_items_from_a_beta_session(tmp_path: Path) -> None:
    tone_in = sine(440, 0.25, 8000)
    ulaw = ulaw_encode(pack(tone_in))
    out_a, out_b = sine(660, 0.1, 24000), sine(880, 0.05, 24000)
    events = [
        (
            False,
            {
                "type": "session.created",
                "session": {"input_audio_format": "pcm16", "output_audio_format": "pcm16"},
            },
        ),
        (True, {"type": "session.update", "session": {"input_audio_format": "g711_ulaw"}}),
        (
            False,
            {
                "type": "session.updated",
                "session": {"input_audio_format": "g711_ulaw", "output_audio_format": "pcm16"},
            },
        ),
        (True, {"type": "input_audio_buffer.append", "audio": b64(ulaw[:1000])}),
        (True, {"type": "input_audio_buffer.append", "audio": b64(ulaw[1000:])}),
        (
            False,
            {
                "type": "response.audio.delta",
                "response_id": "r1",
                "item_id": "item_A",
                "delta": b64(pack(out_a[:1200])),
            },
        ),
        (
            False,
            {
                "type": "response.audio.delta",
                "response_id": "r1",
                "item_id": "item_A",
                "delta": b64(pack(out_a[1200:])),
            },
        ),
        (
            False,
            {
                "type": "response.audio.delta",
                "response_id": "r2",
                "item_id": "item_B",
                "delta": b64(pack(out_b)),
            },
        ),
    ]
    capture = write_capture(tmp_path / "c.jsonl", events)
    result = export_wav(CaptureReader(capture), tmp_path / "wav")
    names = [w.path.name for w in result.written]
    assert names == ["c1_input.wav", "c1_item_A.wav", "c1_item_B.wav"]
    channels, width, rate, got = read_wav(tmp_path / "wav" / "c1_input.wav")
    assert (channels, width, rate, len(got)) == (1, 2, 8000, len(tone_in))
    assert all(abs(a - b) <= max(16, abs(a) // 16) for a, b in zip(tone_in, got, strict=True))
    assert read_wav(tmp_path / "wav" / "c1_item_A.wav") == (1, 2, 24000, out_a)
    assert read_wav(tmp_path / "wav" / "c1_item_B.wav") == (1, 2, 24000, out_b)
    assert [round(w.seconds, 3) for w in result.written] == [0.25, 0.1, 0.05]
    assert all(stat.S_IMODE(w.path.stat().st_mode) == 0o600 for w in result.written)
    assert stat.S_IMODE((tmp_path / "wav").stat().st_mode) == 0o700
    assert result.notes == []


def test_ga_audio_from_mitmproxy_har_fixture(tmp_path: Path) -> None:
    # make_mitmproxy_fixtures.py sent a 440 Hz 0.1 s input and two 0.05 s 660 Hz deltas (item_1).
    result = export_wav(open_source(FIXTURES / "har" / "mitmproxy.har"), tmp_path)
    assert [w.path.name for w in result.written] == ["1_input.wav", "1_item_1.wav"]
    assert read_wav(result.written[0].path)[3] == sine(440, 0.1, 24000)
    assert read_wav(result.written[1].path)[3] == sine(660, 0.05, 24000) * 2


def test_alaw_output_declared_in_a_ga_session(tmp_path: Path) -> None:
    result = export_wav(open_source(FIXTURES / "har" / "httptoolkit.har"), tmp_path)
    [written] = result.written
    assert written.path.name == "1_item_H1.wav"
    # delta "1dXV1VVVVVU=" is four 0xD5 then four 0x55: +8 and -8 in G.711 A-law
    assert read_wav(written.path) == (1, 2, 8000, [8, 8, 8, 8, -8, -8, -8, -8])


def test_dropped_audio_is_reported_not_invented(tmp_path: Path) -> None:
    events = [
        (True, {"type": "input_audio_buffer.append", "audio": b64(b"\x00" * 4800)}),
        (
            False,
            {
                "type": "response.output_audio.delta",
                "item_id": "item_X",
                "delta": b64(b"\x00" * 960),
            },
        ),
    ]
    capture = write_capture(tmp_path / "c.jsonl", events, audio="drop")
    result = export_wav(CaptureReader(capture), tmp_path / "wav")
    assert result.written == []
    assert len(result.notes) == 2
    assert "audio was dropped when recording (--audio drop): 4800 bytes (0.10 s)" in result.notes[0]
    assert "960 bytes (0.02 s)" in result.notes[1]


def test_capture_without_audio_says_so(tmp_path: Path) -> None:
    result = export_wav(
        open_source(FIXTURES / "seeds" / "001_no-response-after-response-create.txt"),
        tmp_path / "w",
    )
    assert result.written == [] and result.notes[0].startswith("no audio in this capture")
    assert not (tmp_path / "w").exists()


def test_unknown_format_is_assumed_pcm16_and_said() -> None:
    records = [
        {
            "kind": "msg",
            "conn": "0",
            "seq": 0,
            "t": None,
            "from": "client",
            "event": {"type": "input_audio_buffer.append", "audio": "AAAA"},
        },
    ]
    [track] = collect_tracks(records)
    assert (track.fmt.encoding, track.fmt.rate, track.fmt_known, track.nbytes) == (
        "pcm16",
        24000,
        False,
        3,
    )


def test_audio_sent_as_a_conversation_item_gets_its_own_file(tmp_path: Path) -> None:
    first, second = sine(300, 0.1, 24000), sine(500, 0.05, 24000)
    item = {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_audio", "audio": b64(pack(first))},
            {"type": "input_text", "text": "and then"},
            {"type": "input_audio", "audio": b64(pack(second))},
        ],
    }
    events = [
        (True, {"type": "conversation.item.create", "item": {"id": "item_U1", **item}}),
        (True, {"type": "conversation.item.create", "item": item}),
        (False, {"type": "conversation.item.added", "item": {"id": "item_S", **item}}),
        (True, {"type": "conversation.item.create", "item": {"type": "message", "content": []}}),
    ]
    capture = write_capture(tmp_path / "c.jsonl", events)
    result = export_wav(CaptureReader(capture), tmp_path / "wav")
    # the server's echo of an item is not the client's audio a second time; no-audio items: no file
    assert [w.path.name for w in result.written] == ["c1_item_U1.wav", "c1_item-2.wav"]
    for written in result.written:
        assert read_wav(written.path) == (1, 2, 24000, first + second)
        assert written.track.kind == "item"
    assert "assumed" in " ".join(result.notes)  # no session event: pcm16 assumed, and said
