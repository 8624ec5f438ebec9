"""The scripted client of ``make demo``: seed 000 played with the real ``openai`` SDK.

Seed 000 (a user report): a session answers in text; the client switches the session to
``["text", "audio"]`` and the user speaks at once; the answer comes back text-only although
``response.created`` echoes both modalities. This client does exactly that:

1. waits for ``session.created``, sets ``modalities: ["text"]`` and waits for ``session.updated``;
2. sends a text item and ``response.create`` and waits for the (text) answer;
3. sends ``session.update`` with ``["text", "audio"]`` and **immediately** streams speech-like
   audio (a tone, then silence, a little faster than real time, as a microphone buffer flushes)
   so that the server's VAD commits a turn and starts a response within the modality-race window
   of the simulator; waits for that ``response.done`` and closes.

It uses the beta connection (``client.beta.realtime.connect``) because seed 000 is a beta session
and its shape (``modalities: ["text", "audio"]`` echoed in ``response.created``) only exists in
beta: GA's ``output_modalities`` allows exactly one modality. ``dialect="ga"`` runs the same
script with GA shapes (``["text"]`` → ``["audio"]``).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from .sim.audio import tone

__all__ = ["run_demo_session"]

_CHUNK_MS = 100


async def _until(connection: Any, wanted: str, timeout: float) -> Any:
    async def wait() -> Any:
        async for event in connection:
            if event.type == wanted:
                return event
            if event.type == "error":
                continue
        raise ConnectionError(f"connection closed before {wanted}")

    return await asyncio.wait_for(wait(), timeout)


async def run_demo_session(
    base_url: str,
    *,
    dialect: str = "beta",
    api_key: str = "sk-rtscope-demo",
    speech_ms: int = 600,
    silence_ms: int = 700,
    chunk_gap_s: float = 0.01,
    timeout: float = 15.0,
) -> None:
    """Run seed 000 against ``base_url`` (e.g. ``ws://127.0.0.1:8765/v1``: the SDK appends
    ``/realtime?model=…``). Raises on timeouts; the analysis is done on the capture."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key=api_key, websocket_base_url=base_url)
    beta = dialect == "beta"
    manager: Any = (client.beta.realtime if beta else client.realtime).connect(
        model="gpt-4o-realtime-preview-2024-12-17" if beta else "gpt-realtime"
    )
    async with manager as connection:
        await _until(connection, "session.created", timeout)
        text_only: dict[str, Any] = (
            {"modalities": ["text"]}
            if beta
            else {"type": "realtime", "output_modalities": ["text"]}
        )
        await connection.session.update(session=text_only)
        await _until(connection, "session.updated", timeout)
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Bonjour"}],
            }
        )
        await connection.response.create()
        await _until(connection, "response.done", timeout)

        with_audio: dict[str, Any] = (
            {"modalities": ["text", "audio"]}
            if beta
            else {"type": "realtime", "output_modalities": ["audio"]}
        )
        await connection.session.update(session=with_audio)
        # No wait for session.updated here: that is the bug of seed 000.
        audio = tone(speech_ms, "pcm16", freq=200.0) + bytes(48 * silence_ms)
        step = 48 * _CHUNK_MS
        for start in range(0, len(audio), step):
            chunk = base64.b64encode(audio[start : start + step]).decode("ascii")
            await connection.input_audio_buffer.append(audio=chunk)
            await asyncio.sleep(chunk_gap_s)
        await _until(connection, "response.done", timeout)
    await client.close()
