"""Importers: HAR, mitmproxy flow files and pasted logs into capture records."""
