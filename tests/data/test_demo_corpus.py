"""The committed demo corpus: sizes, referential integrity, valid codes, realistic constraints, gold
pairs that survive the engine's hard filters, and byte-for-byte reproducibility of the generator."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from data.demo import DEMO_FILES, read_demo
from data.demo.generate import DEFAULT_SEED, build_corpus, write_corpus
from data.demo.text import MATURITY_TRL
from data.demo.topics import load_families
from data.demo.uscc import (
    USCC_ALPHABET,
    is_valid_org_code,
    is_valid_uscc,
    org_code_check_char,
    uscc_check_char,
)
from data.reference import is_known_field, is_known_region, load_fields, load_regions, region_city
from models import ContractSubtype, ContractType
from models.registration import subtype_fits
from models.validators import uscc_check_char as model_uscc_check_char

MONEY = re.compile(r"^\d+\.\d{2}$")
MODES = {"转让", "许可", "作价入股", "合作开发", "技术服务"}
MATURITIES = ("实验室", "小试", "中试", "产业化")
KINDS = {
    "enterprise",
    "university",
    "institute",
    "new_rd_institution",
    "tt_agency",
    "registration_agency",
    "sub_center",
}
INSTITUTIONS = {"university", "institute", "new_rd_institution"}
# Codes printed in public business registries; each passes both GB 32100 and GB 11714 checks.
REAL_USCC = (
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110000710926094P",  # 中国石油化工股份有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91110108551385082Q",  # 北京小米科技有限责任公司
    "12100000400000624D",  # 清华大学
)


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[dict[str, Any]]]:
    return {name: read_demo(name) for name in DEMO_FILES}


def _by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["external_id"]: r for r in records}


def _yuan(text: str) -> Decimal:
    assert MONEY.match(text), text
    return Decimal(text)


# --- USCC -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_public_codes_validate(code: str) -> None:
    assert is_valid_uscc(code)
    assert uscc_check_char(code[:17]) == code[17]
    assert is_valid_org_code(code[8:17])


@pytest.mark.parametrize("code", REAL_USCC)
def test_any_single_character_change_is_caught(code: str) -> None:
    for position in range(18):
        for replacement in USCC_ALPHABET:
            if replacement == code[position] or (2 <= position < 8 and not replacement.isdigit()):
                continue
            assert not is_valid_uscc(code[:position] + replacement + code[position + 1 :])


@pytest.mark.parametrize(
    "bad",
    ["", "91440300708461136", "91440300708461136TX", "91440300708461136t", "9144030070846113IT",
     "9I440300708461136T", "91440300708461136O", "914403A0708461136T", "９１４４０３００１９２２０３８２１６"],
)  # fmt: skip
def test_malformed_codes_are_rejected(bad: str) -> None:
    assert not is_valid_uscc(bad)


def test_check_char_rejects_bad_input() -> None:
    for bad in ("1234567890123456", "914403001922038I6", "91440300192203821x"):
        with pytest.raises(ValueError):
            uscc_check_char(bad)
    with pytest.raises(ValueError):
        org_code_check_char("1922038")


def test_check_char_agrees_with_the_model_validator() -> None:
    rng = random.Random(7)
    for _ in range(500):
        first17 = "".join(rng.choice(USCC_ALPHABET) for _ in range(17))
        assert uscc_check_char(first17) == model_uscc_check_char(first17)


def test_demo_codes_are_valid_unique_and_registered_in_henan(corpus: dict[str, list[dict[str, Any]]]) -> None:
    codes = [o["uscc"] for o in corpus["organizations"]]
    assert len(codes) == len(set(codes))
    for org in corpus["organizations"]:
        code = org["uscc"]
        assert is_valid_uscc(code) and is_valid_org_code(code[8:17]), code
        assert code[2:4] == "41" and is_known_region(code[2:8])
        assert code[:2] == "91" if org["kind"] == "enterprise" else code[:2] in {"12", "52", "91"}


# --- sizes and integrity -----------------------------------------------------------------------------


def test_sizes(corpus: dict[str, list[dict[str, Any]]]) -> None:
    assert len(corpus["organizations"]) >= 30
    assert {o["kind"] for o in corpus["organizations"]} == KINDS
    assert len(corpus["brokers"]) == 8
    assert len(corpus["needs"]) == 200 and len(corpus["achievements"]) == 300
    assert 10 <= len(corpus["contracts"]) <= 20 and corpus["payments"]


def test_external_ids_are_unique_and_well_formed(corpus: dict[str, list[dict[str, Any]]]) -> None:
    patterns = {"organizations": r"ORG\d{3}", "users": r"U\d{3}", "brokers": r"B\d{2}", "needs": r"N\d{4}",
                "achievements": r"A\d{4}", "contracts": r"C\d{3}", "payments": r"P\d{4}"}  # fmt: skip
    for name, pattern in patterns.items():
        ids = [r["external_id"] for r in corpus[name]]
        assert len(ids) == len(set(ids)) and all(re.fullmatch(pattern, i) for i in ids), name


def test_every_region_and_field_is_covered(corpus: dict[str, list[dict[str, Any]]]) -> None:
    cities = {r.code for r in load_regions() if r.level == "city"}
    fields = {f.code for f in load_fields() if not f.cross_cutting}
    assert {region_city(n["region_code"]) for n in corpus["needs"]} == cities
    assert {region_city(o["region_code"]) for o in corpus["organizations"]} == cities
    assert {n["field_code"] for n in corpus["needs"]} == fields
    assert {a["field_code"] for a in corpus["achievements"]} == fields


def test_users_and_brokers(corpus: dict[str, list[dict[str, Any]]]) -> None:
    orgs, users = _by_id(corpus["organizations"]), _by_id(corpus["users"])
    role_by_kind = {"enterprise": "enterprise", "university": "institution", "institute": "institution",
                    "new_rd_institution": "institution", "registration_agency": "registrar",
                    "sub_center": "admin", "tt_agency": "broker"}  # fmt: skip
    usernames = [u["username"] for u in users.values()]
    assert len(usernames) == len(set(usernames)) and "admin" in usernames
    assert {u["org_external_id"] for u in users.values()} == set(orgs)
    for user in users.values():
        assert (
            user["role"] == role_by_kind[orgs[user["org_external_id"]]["kind"]] or user["username"] == "admin"
        )
    for broker in corpus["brokers"]:
        user = users[broker["user_external_id"]]
        assert user["role"] == "broker" and user["org_external_id"] == broker["org_external_id"]
        assert orgs[broker["org_external_id"]]["kind"] == "tt_agency"
        assert all(is_known_field(f) for f in broker["field_codes"]) and broker["capacity"] > 0
        assert all(is_known_region(r) for r in broker["region_codes"])
    assert {f for b in corpus["brokers"] for f in b["field_codes"]} >= {
        n["field_code"] for n in corpus["needs"]
    }


def test_postings_reference_known_codes_and_owners(corpus: dict[str, list[dict[str, Any]]]) -> None:
    orgs = _by_id(corpus["organizations"])
    for org in orgs.values():
        assert is_known_region(org["region_code"]) and org["tags"]
    for need in corpus["needs"]:
        assert orgs[need["org_external_id"]]["kind"] == "enterprise"
    for ach in corpus["achievements"]:
        assert orgs[ach["org_external_id"]]["kind"] in INSTITUTIONS
    for record in corpus["needs"] + corpus["achievements"]:
        assert is_known_field(record["field_code"]) and record["field_code"].startswith("F")
        assert record["subfield_code"].startswith(record["field_code"] + ".") and is_known_field(
            record["subfield_code"]
        )
        assert record["region_code"] == orgs[record["org_external_id"]]["region_code"]
        assert record["status"] == "open" and record["keywords"]
        assert record["modes"] and set(record["modes"]) <= MODES


def test_needs_read_like_needs(corpus: dict[str, list[dict[str, Any]]]) -> None:
    titles = [n["title"] for n in corpus["needs"]]
    assert len(titles) == len(set(titles))
    confidential = sum(n["visibility"] == "confidential" for n in corpus["needs"])
    assert 0.05 <= confidential / len(corpus["needs"]) <= 0.15
    for need in corpus["needs"]:
        assert 2 <= need["description"].count("。") <= 5, need["external_id"]
        assert re.search(r"[\u4e00-\u9fff]", need["title"])
        assert _yuan(need["budget_min"]) <= _yuan(need["budget_max"])
        assert need["min_maturity"] in (None, *MATURITIES)
        assert date.fromisoformat(need["deadline"]) > date.fromisoformat(need["published_on"])


def _patent_check_ok(number: str) -> bool:
    digits, check = number[2:14], number[-1]
    total = sum(int(d) * w for d, w in zip(digits, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True)) % 11
    return check == ("X" if total == 10 else str(total))


def test_achievements_read_like_achievements(corpus: dict[str, list[dict[str, Any]]]) -> None:
    for ach in corpus["achievements"]:
        assert 3 <= ach["abstract"].count("。") <= 6, ach["external_id"]
        low, high = MATURITY_TRL[ach["maturity"]]
        assert low <= ach["trl"] <= high
        _yuan(ach["asking_price"])
        number = ach["ip_number"]
        if ach["ip_type"] in ("发明专利", "实用新型"):
            kind = "1" if ach["ip_type"] == "发明专利" else "2"
            assert (
                re.fullmatch(r"ZL20\d\d[12]\d{7}\.[\dX]", number)
                and number[6] == kind
                and _patent_check_ok(number)
            )
        elif ach["ip_type"] == "软件著作权":
            assert re.fullmatch(r"20\d\dSR\d{7}", number)
        else:
            assert ach["ip_type"] == "技术秘密" and number is None


# --- gold pairs --------------------------------------------------------------------------------------


def test_gold_pairs_are_findable_through_the_hard_filters(corpus: dict[str, list[dict[str, Any]]]) -> None:
    needs, achs = _by_id(corpus["needs"]), _by_id(corpus["achievements"])
    for pair in corpus["gold_pairs"]:
        need, ach = needs[pair["need_external_id"]], achs[pair["achievement_external_id"]]
        assert pair["relevance"] in (1, 2)
        assert need["field_code"] == ach["field_code"]
        assert _yuan(ach["asking_price"]) <= _yuan(need["budget_max"])
        assert set(need["modes"]) & set(ach["modes"])
        assert ach["visibility"] == "public"
        if need["min_maturity"]:
            assert MATURITIES.index(ach["maturity"]) >= MATURITIES.index(need["min_maturity"])


def test_a_good_share_of_needs_has_one_to_three_true_solutions(
    corpus: dict[str, list[dict[str, Any]]],
) -> None:
    solving: dict[str, int] = Counter(
        p["need_external_id"] for p in corpus["gold_pairs"] if p["relevance"] == 2
    )
    assert 0.5 <= len(solving) / len(corpus["needs"]) <= 0.9
    assert set(solving.values()) <= {1, 2, 3}


def test_gold_pairs_have_same_field_distractors(corpus: dict[str, list[dict[str, Any]]]) -> None:
    gold: dict[str, set[str]] = defaultdict(set)
    for pair in corpus["gold_pairs"]:
        gold[pair["need_external_id"]].add(pair["achievement_external_id"])
    achs_by_field: dict[str, set[str]] = defaultdict(set)
    for ach in corpus["achievements"]:
        achs_by_field[ach["field_code"]].add(ach["external_id"])
    needs = _by_id(corpus["needs"])
    for need_id, answers in gold.items():
        assert len(achs_by_field[needs[need_id]["field_code"]] - answers) >= 2, need_id


def test_gold_pairs_use_different_wording(corpus: dict[str, list[dict[str, Any]]]) -> None:
    needs, achs = _by_id(corpus["needs"]), _by_id(corpus["achievements"])
    overlaps = []
    for pair in corpus["gold_pairs"]:
        need, ach = needs[pair["need_external_id"]], achs[pair["achievement_external_id"]]
        assert ach["title"] not in need["description"] and need["title"] not in ach["abstract"]
        assert not set(need["keywords"]) & set(ach["keywords"]), (need["keywords"], ach["keywords"])
        overlaps.append(pair["overlap"])
    assert max(overlaps) < 0.2 and sorted(overlaps)[len(overlaps) // 2] < 0.1


def test_every_vocabulary_topic_is_used(corpus: dict[str, list[dict[str, Any]]]) -> None:
    pairs = [p for f in load_families() for p in f.pairs]
    assert len(pairs) >= 150
    needs_text = "".join(n["description"] for n in corpus["needs"])
    abstracts = "".join(a["abstract"] for a in corpus["achievements"])
    unused = [
        p.key
        for p in pairs
        if not any(s.method in abstracts for s in p.solutions) and p.problems[0] not in needs_text
    ]
    assert not unused


# --- contracts ---------------------------------------------------------------------------------------


def test_contracts_sit_on_gold_pairs(corpus: dict[str, list[dict[str, Any]]]) -> None:
    needs, achs, orgs = (
        _by_id(corpus["needs"]),
        _by_id(corpus["achievements"]),
        _by_id(corpus["organizations"]),
    )
    brokers = _by_id(corpus["brokers"])
    gold = {
        (p["need_external_id"], p["achievement_external_id"])
        for p in corpus["gold_pairs"]
        if p["relevance"] == 2
    }
    numbers = [c["contract_number"] for c in corpus["contracts"]]
    assert len(numbers) == len(set(numbers))
    for c in corpus["contracts"]:
        need, ach = needs[c["need_external_id"]], achs[c["achievement_external_id"]]
        assert (need["external_id"], ach["external_id"]) in gold
        assert (c["buyer_org_external_id"], c["seller_org_external_id"]) == (
            need["org_external_id"],
            ach["org_external_id"],
        )
        assert c["broker_external_id"] in brokers and c["field_code"] == need["field_code"]
        assert c["contract_type"] in {"技术开发", "技术转让", "技术许可", "技术咨询", "技术服务"}
        assert 0 < _yuan(c["tech_transaction_amount"]) <= _yuan(c["contract_amount"])
        signed = date.fromisoformat(c["signed_on"])
        assert date(2024, 1, 1) <= signed <= date(2025, 12, 31)
        reg = c["registration"]
        assert (c["status"] == "registered") == (reg is not None)
        if reg:
            assert orgs[reg["registrar_org_external_id"]]["kind"] == "registration_agency"
            assert date.fromisoformat(reg["registered_on"]) >= signed and _yuan(reg["registered_amount"]) > 0
        if c["is_open_call"]:
            assert region_city(c["region_code"]) == "410100"


def test_payments_never_exceed_the_contract(corpus: dict[str, list[dict[str, Any]]]) -> None:
    contracts = _by_id(corpus["contracts"])
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in corpus["payments"]:
        contract = contracts[payment["contract_external_id"]]
        assert date.fromisoformat(payment["paid_on"]) > date.fromisoformat(contract["signed_on"])
        paid[contract["external_id"]] += _yuan(payment["amount"])
    assert all(total <= _yuan(contracts[cid]["contract_amount"]) for cid, total in paid.items())


# --- files and determinism ---------------------------------------------------------------------------


def test_read_demo_rejects_unknown_names() -> None:
    with pytest.raises(ValueError):
        read_demo("passwords")


def test_generator_is_deterministic_and_the_committed_files_are_current(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_corpus(build_corpus(DEFAULT_SEED), first)
    write_corpus(build_corpus(DEFAULT_SEED), second)
    committed = Path(__file__).resolve().parents[2] / "data" / "demo"
    for name in DEMO_FILES:
        produced = (first / f"{name}.jsonl").read_bytes()
        assert produced == (second / f"{name}.jsonl").read_bytes(), name
        assert produced == (committed / f"{name}.jsonl").read_bytes(), (
            f"{name}: run python -m data.demo.generate"
        )


def test_another_seed_gives_another_corpus() -> None:
    assert build_corpus(DEFAULT_SEED + 1)["needs"] != build_corpus(DEFAULT_SEED)["needs"]


def test_registrations_are_what_a_registrar_records(corpus: dict[str, list[dict[str, Any]]]) -> None:
    """Every 认定结论 occurs; 登记 records are complete and consistent with their contract; the others
    carry a reason and no amounts; some contracts still wait in the registrar's queue."""
    contracts = _by_id(corpus["contracts"])
    regs = corpus["registrations"]
    assert {r["conclusion"] for r in regs} == {"登记", "不予登记", "退回补正"}
    assert len(regs) < len(contracts)  # the rest are pending
    numbers = [r["registration_number"] for r in regs if r["registration_number"]]
    assert len(numbers) == len(set(numbers))
    for r in regs:
        contract = contracts[r["contract_external_id"]]
        if r["conclusion"] == "登记":
            assert subtype_fits(ContractType(contract["contract_type"]), ContractSubtype(r["subtype"]))
            assert (
                0
                < _yuan(r["tech_income"])
                <= _yuan(r["registered_amount"])
                <= _yuan(contract["contract_amount"])
            )
            assert r["payment_method"] and r["term_start"] <= r["term_end"] and not r["reason"]
        else:
            assert r["reason"] and _yuan(r["registered_amount"]) == _yuan(r["tech_income"]) == 0
        assert r["registered_on"] >= contract["signed_on"]
