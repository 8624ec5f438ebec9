"""pytest plugin: serve captures and run the simulator in tests (see docs/replay.md)."""
