"""WebSocket masking in C for ``rtscope record``'s proxy: websockets' ``apply_mask`` in wsproto.

Every frame a client sends is masked (RFC 6455 §5.3): mitmproxy, through wsproto, unmasks each
frame it receives from the client and masks it again on its way to the server. wsproto does that in
Python (``XorMaskerSimple.process``: four strided ``translate`` passes over a ``bytearray``): about
10 % of the embedded proxy's CPU per 4 KB client message (py-spy, ``bench/profile_proxy.py``), and a
voice client streams audio all the time. websockets, already installed for rtscope's replay and
mock server, ships the same XOR as a C function (``websockets.speedups.apply_mask``).

:func:`install` swaps wsproto's method for one that calls it, keeping wsproto's key rotation (a
payload processed in several pieces goes on with the next key byte), and :func:`uninstall` puts the
original back. Only the embedded proxy of ``rtscope record`` installs it (like its hook table,
:mod:`.dispatch`); a ``mitmdump -s`` user's mitmproxy is left as it is.

Fail-open: nothing is changed when websockets was installed without its C extension, when wsproto
has no ``XorMaskerSimple.process`` of the expected shape, or when the replacement does not give
byte for byte what wsproto's own method gives on a self-test (checked once per install).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["fast_process", "install", "installed", "uninstall"]

_ORIGINAL: Callable[[Any, bytes], bytes] | None = None

#: (masking key, pieces fed one after another): rotations 0–3 and an empty piece, checked against
#: wsproto's own method before anything is swapped.
_SELF_TEST = (b"\x01\x80\x7f\xff", (b"", b"abc", bytes(range(256)), b"z", b"0123456789abcdef"))


def _apply_mask() -> Callable[[bytes, bytes], bytes] | None:
    try:
        from websockets.speedups import apply_mask
    except ImportError:  # websockets built without its C extension
        return None
    fn: Callable[[bytes, bytes], bytes] = apply_mask
    return fn


def fast_process(self: Any, data: bytes) -> bytes:
    """``XorMaskerSimple.process`` with the XOR in C (websockets' ``apply_mask``)."""
    if not data:
        return data
    key: bytes = self._masking_key
    out = _MASK(data, key)
    turn = len(data) & 3
    if turn:
        self._masking_key = key[turn:] + key[:turn]
    return out


#: websockets' ``apply_mask``, set by :func:`install` before :func:`fast_process` is ever used.
_MASK: Callable[[bytes, bytes], bytes]


def _masker_class() -> Any:
    try:
        from wsproto import frame_protocol
    except ImportError:
        return None
    cls = getattr(frame_protocol, "XorMaskerSimple", None)
    return cls if callable(getattr(cls, "process", None)) else None


def _same_output(cls: Any, original: Callable[[Any, bytes], bytes]) -> bool:
    key, pieces = _SELF_TEST
    theirs, ours = cls(key), cls(key)
    try:
        for piece in pieces:
            if original(theirs, piece) != fast_process(ours, piece):
                return False
    except Exception:
        return False
    return True


def install() -> bool:
    """Use the C XOR in wsproto's masker; ``True`` if it is (now or already) in use."""
    global _ORIGINAL, _MASK
    if _ORIGINAL is not None:
        return True
    mask = _apply_mask()
    cls = _masker_class()
    if mask is None or cls is None:
        return False
    _MASK = mask
    original = cls.process
    if not _same_output(cls, original):
        return False
    _ORIGINAL = original
    cls.process = fast_process
    return True


def uninstall() -> None:
    """Put wsproto's own method back (idempotent)."""
    global _ORIGINAL
    cls = _masker_class()
    if _ORIGINAL is not None and cls is not None:
        cls.process = _ORIGINAL
    _ORIGINAL = None


def installed() -> bool:
    return _ORIGINAL is not None
