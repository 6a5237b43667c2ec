from __future__ import annotations

from django.db import models


class Confirmation(models.Model):
    trans_id = models.CharField(max_length=32)
    body = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.trans_id
