"""The bottom floor: small helpers every room may use, importing nothing from the project.

``eat`` (Kenyan time), ``network`` (who is calling, behind our proxy), ``secrets`` (comparing a
secret path segment), ``phones`` (the forms an M-Pesa payer number takes), ``redaction`` (keeping
secrets out of logs) and ``workers`` (the loop every background worker runs).
"""
