"""A local emulator of Safaricom's Daraja (M-Pesa) API for C2B integrations. See README.md."""

from daraja_emulator.server import Emulator
from daraja_emulator.settings import Faults, Settings, ShortcodeSettings

__all__ = ["Emulator", "Faults", "Settings", "ShortcodeSettings"]
