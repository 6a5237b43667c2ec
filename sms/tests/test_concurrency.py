"""Many workers at once, on PostgreSQL: every message is sent, and none twice."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from sms.backends import SendResult, SmsBackend
from sms.models import OutboundSms
from sms.services import sms_send_due

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SKIP LOCKED claims are proven on PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

MESSAGES = 120
ROOT = Path(__file__).resolve().parents[2]


class RecordingBackend(SmsBackend):
    name = "recording"

    def __init__(self, sent: list[str], lock: threading.Lock) -> None:
        self.sent, self.lock = sent, lock

    def send(self, *, to, text):
        with self.lock:
            self.sent.append(text)
        return SendResult(provider_message_id=f"r-{len(self.sent)}")


def test_workers_racing_in_threads_send_every_message_exactly_once(queued_sms):
    queued_sms(MESSAGES)
    sent: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            sms_send_due(backend=RecordingBackend(sent, lock), worker=f"thread:{n}")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors
    assert len(sent) == MESSAGES
    assert len(set(sent)) == MESSAGES
    assert set(OutboundSms.objects.values_list("status", flat=True)) == {"sent"}
    assert OutboundSms.objects.values("claimed_by").distinct().count() > 1


def test_worker_processes_racing_send_every_message_exactly_once(queued_sms):
    queued_sms(MESSAGES)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "SMS_BACKEND": "console",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sms_worker", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]

    assert [w.returncode for w in workers] == [0] * 4, outputs
    refs = re.findall(r"M-Pesa ref (\w+)\.", "".join(out for out, _ in outputs))
    assert len(refs) == MESSAGES
    assert len(set(refs)) == MESSAGES
    assert set(OutboundSms.objects.values_list("status", flat=True)) == {"sent"}
