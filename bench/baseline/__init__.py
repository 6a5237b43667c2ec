"""The yardstick: the least Django can do per callback (one view, one INSERT, one table).

Same PostgreSQL, same gunicorn, same load generator as the real app, so the difference between
the two is the price of the capture core's extra work (raw receipt first, parse, exactly-once).
"""
