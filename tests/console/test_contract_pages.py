"""The registrar's pages and the contract detail page, through the form posts a browser sends: each
认定结论, the refusals re-shown in Chinese with nothing saved, and who may see a contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient

from models.schemas import ContractCreate, PaymentCreate
from services import accounts, contracts
from tests.console.conftest import ConsoleEnv, login


def make_contract(env: ConsoleEnv, number: str, contract_type: str = "技术转让") -> int:
    """A standalone contract between the seeded enterprise and university, with one payment."""
    admin = accounts.actor_for_user(env.engine, env.seeded.user["admin"])
    assert admin is not None
    data = ContractCreate(
        contract_number=number,
        contract_type=contract_type,
        title=f"金刚石线锯制备技术合同 {number}",
        buyer_org_id=env.seeded.org["ent"],
        seller_org_id=env.seeded.org["uni"],
        field_code="F03",
        contract_amount=Decimal("1200000.00"),
        tech_transaction_amount=Decimal("1000000.00"),
        signed_on=date(2026, 3, 1),
    )
    cid = int(contracts.create_contract(env.engine, admin, data)["id"])
    contracts.add_payment(
        env.engine, admin, cid, PaymentCreate(amount=Decimal("300000.00"), paid_on=date(2026, 3, 9))
    )
    return cid


def test_registrar_registers_through_the_form(client: TestClient, env: ConsoleEnv) -> None:
    cid = make_contract(env, "HT-CON-1")
    csrf = login(client, "registrar")
    queue = client.get("/console/registrar")
    assert queue.status_code == 200 and "HT-CON-1" in queue.text and "合同认定登记" in queue.text
    form = client.get(f"/console/registrar/contracts/{cid}")
    assert form.status_code == 200 and "专利权转让" in form.text and "委托开发" not in form.text
    url = f"/console/registrar/contracts/{cid}"
    missing_reason = client.post(
        url, data={"csrf_token": csrf, "conclusion": "退回补正", "registered_on": "2026-03-10"}
    )
    assert missing_reason.status_code == 422 and "必须填写理由" in missing_reason.text
    too_much = client.post(
        url,
        data={"csrf_token": csrf, "conclusion": "登记", "registered_on": "2026-03-10",
              "registered_amount": "1,200,000.00", "tech_income": "1,300,000"},
    )  # fmt: skip
    assert too_much.status_code == 422 and "技术性收入不能超过登记成交额" in too_much.text
    bad_term = client.post(
        url,
        data={"csrf_token": csrf, "conclusion": "登记", "registered_on": "2026-03-10",
              "registered_amount": "1200000", "term_start": "2027-01-01", "term_end": "2026-01-01"},
    )  # fmt: skip
    assert bad_term.status_code == 422 and "填写有误" in bad_term.text
    admin = accounts.actor_for_user(env.engine, env.seeded.user["admin"])
    assert admin is not None and contracts.get_contract(env.engine, admin, cid)["registration"] is None
    returned = client.post(
        url,
        data={"csrf_token": csrf, "conclusion": "退回补正", "reason": "缺少专利证书复印件", "registered_on": "2026-03-10",
              "registered_amount": "1200000"},
        follow_redirects=False,
    )  # fmt: skip
    assert returned.status_code == 303 and returned.headers["location"].endswith(
        f"/console/contracts/{cid}?msg=registered"
    )
    assert "缺少专利证书复印件" in client.get("/console/registrar").text  # still queued, with the reason
    done = client.post(
        url,
        data={"csrf_token": csrf, "conclusion": "登记", "registered_on": "2026-03-20",
              "registered_amount": "1,200,000.00", "tech_income": "950000", "subtype": "专利权转让",
              "ip_type": "发明专利", "ip_number": "ZL202310000001.1", "term_start": "2026-03-01",
              "term_end": "2028-02-29", "payment_method": "分期支付"},
    )  # fmt: skip
    assert done.status_code == 200 and "认定登记已保存" in done.text
    for text in (
        "已认定登记",
        f"2026410100{cid:06d}",
        "950,000.00 元",
        "专利权转让",
        "ZL202310000001.1",
        "300,000.00 元",
    ):
        assert text in done.text, text
    assert f"/console/registrar/contracts/{cid}" not in client.get("/console/registrar").text


def test_contract_page_is_for_the_parties_broker_registrars_and_admins(
    client: TestClient, env: ConsoleEnv
) -> None:
    cid = make_contract(env, "HT-CON-2", "技术服务")
    for username, status in (
        ("enterprise", 200),
        ("institution", 200),
        ("registrar", 200),
        ("enterprise2", 403),
    ):
        client.cookies.clear()
        login(client, username)
        page = client.get(f"/console/contracts/{cid}")
        assert page.status_code == status, username
        if status == 200:
            assert "尚未认定登记" in page.text and "300,000.00 元" in page.text
    client.cookies.clear()
    assert client.get(f"/console/contracts/{cid}", follow_redirects=False).status_code == 303  # sign in first
