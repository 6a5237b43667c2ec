"""End-to-end tests: the real product (gunicorn, manage.py commands) against the Daraja emulator.

Both run as separate processes on free local ports and talk real HTTP; the tests drive them the
way an operator and M-Pesa would and read the outcome from the shared PostgreSQL test database.
"""
