"""`make demo`: the whole product on SQLite, paid into by the Daraja emulator."""
