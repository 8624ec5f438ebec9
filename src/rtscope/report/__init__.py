"""Renderers: terminal text, JSON, HTML, HAR and WAV export."""
