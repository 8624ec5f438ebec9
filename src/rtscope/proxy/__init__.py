"""The mitmproxy addon that records Realtime sessions, and `rtscope record`."""
