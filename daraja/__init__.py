"""The one door to Safaricom's Daraja API (or the local emulator that behaves like it).

- ``client``: ``DarajaClient``, the only code that calls Daraja (OAuth, C2B register/simulate,
  Pull Transactions, Transaction Status); ``get_client()`` builds it from Django settings.
- ``pull``: what Pull Transactions returns (``PullRegistration``, ``PullPage``, ``PullRecord``,
  ``PullSweep``), the 48-hour window check and the paging rule.
- ``status``: Transaction Status's acknowledgement and the parser for the result M-Pesa posts
  later to our ResultURL / QueueTimeOutURL (``parse_transaction_status_result``,
  ``parse_queue_timeout``).
- ``credential``: ``security_credential()``, the initiator password encrypted for M-Pesa.
- ``errors``: ``DarajaError`` (and ``InvalidRequest``), ``ResultParseError``,
  ``CallbackURLRejected``.
- ``urlrules``: Safaricom's callback URL rules; ``values``: Daraja's loose amounts, codes, times.

Nothing here imports the rest of the project; Django only inside ``get_client()``.
"""
