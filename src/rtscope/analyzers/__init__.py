"""Protocol-aware rules over capture records, their registry, and the runner."""
