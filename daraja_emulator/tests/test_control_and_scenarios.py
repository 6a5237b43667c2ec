"""The /emulator/ control surface and scripted scenarios."""

from __future__ import annotations

import time
from typing import Any

from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

MEMBERS = [
    {"member_number": "NS001", "phone": "0712000001", "first_name": "Achieng",
     "last_name": "Otieno"},
    {"member_number": "NS002", "phone": "+254712000002", "name": "Peter Kamau Mwangi"},
    {"member_number": "NS003", "phone": "712000003", "first_name": "Mary", "middle_name": "W",
     "last_name": "Njeri"},
]  # fmt: skip


def run_scenario(daraja: Daraja, **body: Any) -> dict[str, Any]:
    reply = daraja.control("POST", "/scenario", {"shortcode": SHORTCODE, "pace": 200} | body)
    assert reply.status_code == 200, reply.text
    scenario_id = reply.json()["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        progress = daraja.control("GET", f"/scenario/{scenario_id}").json()
        if progress["status"] in ("finished", "failed"):
            return progress
        time.sleep(0.05)
    raise AssertionError("scenario did not finish")


def test_health_says_ok(daraja: Daraja) -> None:
    body = daraja.control("GET", "/health").json()
    assert body["status"] == "ok"


def test_shortcode_configuration_errors_name_the_key(daraja: Daraja) -> None:
    reply = daraja.control("POST", "/shortcodes", {"shortcode": SHORTCODE, "moode": "production"})
    assert reply.status_code == 400
    assert "moode" in reply.json()["errorMessage"]
    reply = daraja.control("POST", "/shortcodes", {"shortcode": SHORTCODE, "api_version": "v3"})
    assert "api_version" in reply.json()["errorMessage"]


def test_configuration_is_partial_and_keeps_registrations(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    updated = daraja.configure(external_validation=True)["shortcode"]
    assert updated["external_validation"] is True
    assert updated["api_version"] == "v2"
    assert updated["registration"]["response_type"] == "Completed"


def test_reset_forgets_payments_and_registrations_but_keeps_tokens(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    daraja.pay()
    assert daraja.control("POST", "/reset").status_code == 200
    assert daraja.control("GET", "/ledger").json()["transactions"] == []
    assert daraja.control("GET", "/shortcodes").json()["shortcodes"] == []
    assert daraja.register(receiver).status_code == 200  # same token still works


def test_control_simulate_works_for_production_shortcodes_without_urls(daraja: Daraja) -> None:
    daraja.configure(mode="production")
    tx = daraja.pay()
    assert tx["status"] == "completed"
    assert tx["deliveries"] == []


def test_control_simulate_can_override_names_and_msisdn_form(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    daraja.pay(names={"FirstName": "JANE", "LastName": "DOE"}, msisdn_in_callbacks="254708374149")
    body = receiver.wait_for("/c2b/confirmation")[0].json
    assert (body["FirstName"], body["LastName"], body["MSISDN"]) == ("JANE", "DOE", "254708374149")
    assert "MiddleName" not in body


def test_control_simulate_can_pick_the_callback_api_version(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    daraja.pay(api_version="v1")
    assert len(receiver.wait_for("/c2b/confirmation")[0].json["MSISDN"]) == 64


def test_scenario_pays_as_the_given_members(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(names="full")
    daraja.register(receiver)
    progress = run_scenario(daraja, payments=9, members=MEMBERS, seed=1)
    assert progress["status"] == "finished"
    assert progress["by_status"] == {"completed": 9}
    people = {
        (c.json["BillRefNumber"], c.json["FirstName"], c.json["MiddleName"], c.json["LastName"])
        for c in receiver.wait_for("/c2b/confirmation", 9)
    }
    assert people <= {
        ("NS001", "ACHIENG", "", "OTIENO"),
        ("NS002", "PETER", "KAMAU", "MWANGI"),
        ("NS003", "MARY", "W", "NJERI"),
    }
    phones = {m["phone"] for m in progress["members"]}
    assert phones == {"254712000001", "254712000002", "254712000003"}


def test_seeded_scenarios_replay_the_same_payments(daraja: Daraja) -> None:
    def run() -> list[tuple[str, str, str]]:
        daraja.control("POST", "/reset")
        run_scenario(daraja, payments=8, members=4, seed=42, invalid_account_rate=0.3)
        txs = daraja.control("GET", "/ledger").json()["transactions"]
        return [(t["msisdn"], t["amount"], t["bill_ref_number"]) for t in txs]

    assert run() == run()


def test_invalid_account_share_uses_accounts_no_member_has(daraja: Daraja) -> None:
    progress = run_scenario(daraja, payments=5, members=MEMBERS, invalid_account_rate=1.0)
    accounts = {
        t["bill_ref_number"] for t in daraja.control("GET", "/ledger").json()["transactions"]
    }
    assert progress["invalid_accounts"] == 5
    assert not accounts & {"NS001", "NS002", "NS003"}


def test_scenario_fault_rates_apply(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    progress = run_scenario(daraja, payments=4, members=2, drop_rate=1.0, extra_key_rate=1.0)
    assert progress["faults_injected"]["drop"] == 4
    assert progress["by_status"] == {"completed": 4}
    assert receiver.at("/c2b/confirmation") == []


def test_rejected_scenario_payments_show_in_the_summary(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    receiver.reply("/c2b/validation", body={"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
    progress = run_scenario(daraja, payments=3, members=2)
    assert progress["by_status"] == {"rejected": 3}
    assert progress["completed_amount"] == "0.00"


def test_bad_scenario_requests_are_refused(daraja: Daraja) -> None:
    reply = daraja.control("POST", "/scenario", {"shortcode": SHORTCODE, "drop_rate": 2})
    assert reply.status_code == 400
    reply = daraja.control(
        "POST", "/scenario", {"shortcode": SHORTCODE, "members": [{"phone": "0712000001"}]}
    )
    assert reply.status_code == 400
    assert daraja.control("GET", "/scenario/nope").status_code == 404


def test_messy_accounts_are_real_accounts_typed_badly(daraja: Daraja) -> None:
    progress = run_scenario(daraja, payments=6, members=MEMBERS, messy_account_rate=1.0, seed=5)
    typed = [t["bill_ref_number"] for t in daraja.control("GET", "/ledger").json()["transactions"]]
    assert progress["messy_accounts"] == 6
    assert all(ref not in {"NS001", "NS002", "NS003"} for ref in typed)
    assert {ref.replace(" ", "").upper() for ref in typed} <= {"NS001", "NS002", "NS003"}
