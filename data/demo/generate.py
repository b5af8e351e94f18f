# Demo corpus generator. Run `python -m data.demo.generate` to rewrite data/demo/*.jsonl.
#
# Every demo user account logs in with the password "demo1234" (DEMO_PASSWORD in data/demo/__init__.py);
# the files hold no passwords or hashes: the loader hashes DEMO_PASSWORD for each user.
# Usernames: "admin" (platform administrator), ent001…, inst001…, broker001…, reg001…, sc001….
#
# All content is synthetic. Universities and institutes are real public bodies named in the seed
# documents, but the achievements, patent numbers and unified social credit codes attached to them
# are invented; enterprises, new R&D institutions and some agencies are fictional (`fictional: true`).
"""Deterministic generator of the Chinese demo corpus (seeded ``random.Random``, no clock, no I/O
except writing the files). Files, one JSON object per line, UTF-8:

organizations.jsonl  external_id, name, kind, uscc, region_code, tags, is_member, fields,
                     sub_center_code, fictional
users.jsonl          external_id, username, display_name, role, org_external_id
brokers.jsonl        external_id, user_external_id, org_external_id, field_codes, region_codes, capacity, title
needs.jsonl          external_id, org_external_id, title, description, field_code, subfield_code, keywords,
                     region_code, budget_min, budget_max, modes, min_maturity, deadline, visibility, status,
                     published_on
achievements.jsonl   external_id, org_external_id, title, abstract, field_code, subfield_code, keywords,
                     region_code, maturity, trl, ip_type, ip_number, asking_price, modes, visibility, status,
                     published_on
gold_pairs.jsonl     need_external_id, achievement_external_id, relevance (2 solves, 1 helps), topic,
                     overlap (Jaccard of CJK character bigrams of the two texts)
contracts.jsonl      external_id, contract_number, contract_type, title, need_external_id,
                     achievement_external_id, buyer_org_external_id, seller_org_external_id,
                     broker_external_id, field_code, region_code, sub_center_code, contract_amount,
                     tech_transaction_amount, signed_on, is_open_call, status,
                     registration {registrar_org_external_id, registered_amount, registered_on} | null
payments.jsonl       external_id, contract_external_id, amount, paid_on
broker_registry.jsonl  broker_external_id, certification_level, certificate_number, certificate_issuer,
                     certified_on, title_track, status, trainings [{course, hours, completed_on}]
memberships.jsonl    org_external_id, tier, status, applied_on, reviewed_on, review_note, term_start, term_end
institutions.jsonl   org_external_id, kind, origin, since, recognition, recognized_year
influential_flags.jsonl  achievement_external_id, reason
history_contracts.jsonl  2015–2020 contracts (as contracts.jsonl without postings) with registration and
                     payments [{amount, paid_on}]
registrations.jsonl  contract_external_id, registrar_org_external_id, conclusion (登记 / 不予登记 / 退回补正),
                     reason, registration_number, registered_amount, tech_income, registered_on, subtype,
                     ip_type, ip_number, term_start, term_end, payment_method (the loader's 认定登记 records;
                     a contract's own ``registration`` is the base they are built from)
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from collections import Counter
from pathlib import Path
from typing import Any

from data.demo.calls import build_calls, build_scenes
from data.demo.contracts import build_contracts
from data.demo.orgs import build_brokers, build_enterprises, build_fixed_orgs, build_users
from data.demo.postings import build_achievements, build_needs, gold_pairs, plan_topics
from data.demo.registrations import build_registrations
from data.demo.registries import build_registries
from data.demo.topics import load_families
from data.reference import load_fields, load_regions

__all__ = ["DEFAULT_SEED", "build_corpus", "main", "write_corpus"]

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20250901
N_NEEDS = 200
N_ACHIEVEMENTS = 300
N_SUPPLY_TOPICS = 40
N_CONFIDENTIAL_NEEDS = 20
N_CONTRACTS = 15
_BROKERS_PER_AGENCY = (2, 2, 1, 2, 1)
_INSTITUTION_KINDS = frozenset({"university", "institute", "new_rd_institution"})


def build_corpus(seed: int = DEFAULT_SEED) -> dict[str, list[dict[str, Any]]]:
    """Every demo file's records, keyed by file stem; the same seed always gives the same corpus."""
    rng = random.Random(seed)
    families = load_families()
    topics = plan_topics(
        families, rng, n_needs=N_NEEDS, n_achievements=N_ACHIEVEMENTS, n_supply=N_SUPPLY_TOPICS
    )
    needs_per_family: Counter[str] = Counter()
    for topic in topics:
        needs_per_family[topic.family.key] += topic.n_needs
    orgs = build_fixed_orgs(rng)
    enterprises = build_enterprises(orgs, families, dict(needs_per_family), rng)
    agencies = [o.external_id for o in orgs if o.kind == "tt_agency"]
    users = build_users(orgs, dict(zip(agencies, _BROKERS_PER_AGENCY, strict=True)), rng)
    fields = [f.code for f in load_fields() if not f.cross_cutting]
    cities = [r.code for r in load_regions() if r.level == "city"]
    brokers = build_brokers(orgs, users, fields, cities, rng)
    needs = build_needs(topics, enterprises, rng, n_confidential=N_CONFIDENTIAL_NEEDS)
    achievements = build_achievements(topics, [o for o in orgs if o.kind in _INSTITUTION_KINDS], rng)
    gold = gold_pairs(topics)
    contracts, payments = build_contracts(gold, needs, achievements, orgs, brokers, rng, count=N_CONTRACTS)
    org_records = [o.record() for o in orgs]
    registrations = build_registrations(contracts, achievements, org_records, random.Random(seed + 14))
    calls_rng = random.Random(seed + 13)  # its own stream: the files above do not change with it
    contracted = {str(c["need_external_id"]) for c in contracts if c["need_external_id"]}
    calls = build_calls(needs, achievements, gold, contracted, calls_rng)
    scenes = build_scenes(
        sorted((o.external_id, o.region_code) for o in orgs if o.kind == "enterprise"),
        sorted(o.external_id for o in orgs if o.kind in _INSTITUTION_KINDS),
        calls_rng,
    )
    return {
        "organizations": org_records,
        "users": users,
        "brokers": brokers,
        "needs": sorted(needs, key=lambda r: str(r["external_id"])),
        "achievements": sorted(achievements, key=lambda r: str(r["external_id"])),
        "gold_pairs": gold,
        "contracts": contracts,
        "payments": payments,
        **build_registries(org_records, brokers, seed),
        "registrations": registrations,
        "calls": calls,
        "scenes": scenes,
    }


def write_corpus(corpus: dict[str, list[dict[str, Any]]], out_dir: Path) -> list[Path]:
    """Write one ``<name>.jsonl`` per entry with ``\\n`` line ends; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, records in corpus.items():
        path = out_dir / f"{name}.jsonl"
        text = "".join(json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) + "\n" for r in records)
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m data.demo.generate [--out DIR] [--seed N]``."""
    parser = argparse.ArgumentParser(description="Rewrite the TechMatch demo corpus.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    corpus = build_corpus(args.seed)
    for path in write_corpus(corpus, args.out):
        print(f"{path}: {len(corpus[path.stem])} records")
    topics = {g["topic"] for g in corpus["gold_pairs"]}
    print(f"topics with gold pairs: {len(topics)}; gold pairs: {len(corpus['gold_pairs'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
