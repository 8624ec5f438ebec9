"""Client replayer, mock server from a recording, and the Realtime simulator."""
