"""Realtime API knowledge: event names, dialects, session state tracking (sans-I/O)."""
