"""Simulator options and the named fault scenarios (documented in docs/simulator.md).

A scenario is a name plus a docstring-like description; the behaviour lives in
:mod:`rtscope.replay.sim.core`, which checks ``options.scenario`` at the few places a fault is
injected. Keeping the names in one table lets the CLI list and validate them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCENARIOS", "SimOptions"]

#: name → one-line description (``rtscope serve --simulate --scenario NAME``).
SCENARIOS: dict[str, str] = {
    "default": "A well-behaved server: every documented ack, VAD turn and response.",
    "modality-race": (
        "A change of modalities takes effect only race_delay_ms after the session.update "
        "(session.updated is sent then); a response started in between echoes the requested "
        "modalities in response.created but comes back text-only (seed 000)."
    ),
    "stalled-response": (
        "Every response sends response.created and rate_limits.updated, then nothing (seed 001)."
    ),
    "error-storm": (
        "Every response is followed by a burst of server_error 'error' events and ends "
        "response.done status 'failed'."
    ),
    "session-expiry": (
        "The session hits its maximum duration after expiry_s seconds: error session_expired, "
        "then close 1001."
    ),
    "abnormal-close": (
        "The server drops the TCP connection without a close frame (client sees 1006) right "
        "after the first delta of the first response."
    ),
    "rate-limited": (
        "rate_limits.updated reports 0 tokens remaining and every response fails with "
        "rate_limit_exceeded."
    ),
    "slow-first-audio": (
        "The first delta of every response comes first_audio_delay_ms after response.created."
    ),
}


@dataclass(frozen=True)
class SimOptions:
    """Knobs of one simulated session (all times in the unit their name says)."""

    scenario: str = "default"
    #: modality-race: delay before a modality change applies.
    race_delay_ms: int = 300
    #: Maximum session duration (the real one is 60 minutes); ``session-expiry`` uses expiry_s.
    max_session_s: float = 3600.0
    expiry_s: float = 5.0
    #: slow-first-audio: wait before the first delta.
    first_audio_delay_ms: int = 3000
    #: Pace of streamed deltas, and audio per delta.
    delta_interval_ms: int = 20
    audio_ms_per_delta: int = 200
    #: error-storm: error events per response.
    error_burst: int = 3
    #: Seed of the id generator (``None``: random ids).
    seed: int | None = None
    model: str = "gpt-realtime"

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise ValueError(f"unknown scenario {self.scenario!r} (known: {known})")

    @property
    def session_limit_s(self) -> float:
        return self.expiry_s if self.scenario == "session-expiry" else self.max_session_s
