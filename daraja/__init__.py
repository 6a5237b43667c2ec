"""The one door to Safaricom's Daraja API (or the local emulator that behaves like it)."""
