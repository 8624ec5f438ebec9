"""Renderers: terminal timeline, HTML report, progress bars (and HAR / WAV export).

- :mod:`.timeline` + :mod:`.terminal`: ``rtscope show``.
- :mod:`.model` + :mod:`.html`: ``rtscope report`` (one self-contained HTML file).
- :mod:`.progress`: progress bars on a terminal, for any long command.
- :mod:`.summary`, :mod:`.config`, :mod:`.pcm`: shared helpers (event summaries, effective
  session config, G.711/WAV decoding).
"""
