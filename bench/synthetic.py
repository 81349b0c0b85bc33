"""Make synthetic roll exports for samples, tests and the benchmark."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The input format (one CSV row per tax line; account-level fields repeat on every row).
ACCOUNT_FIELDS: tuple[str, ...] = (
    "account_id",
    "owner_name",
    "owner_name_2",
    "mailing_address_1",
    "mailing_address_2",
    "mailing_city",
    "mailing_state",
    "mailing_zip",
    "property_address",
    "first_advertisement_date",
)
LINE_FIELDS: tuple[str, ...] = ("source", "period", "amount", "interest", "penalty")
CSV_COLUMNS: tuple[str, ...] = ACCOUNT_FIELDS + LINE_FIELDS
OPTIONAL_ACCOUNT_FIELDS: frozenset[str] = frozenset(
    {"owner_name_2", "mailing_address_2", "first_advertisement_date"}
)

Account = dict[str, Any]  # account-level fields (str) plus "lines": list[dict[str, str]]

CENT = Decimal("0.01")
CITY_ADVERTISEMENT_DATES = ("2027-03-08", "2027-03-15", "2027-03-22")  # >= 35 days after 2027-02-01
COUNTY_ADVERTISEMENT_DATES = ("2027-04-05", "2027-04-12")  # >= 35 days after 2027-03-01

# Baltimore City streets with a plausible ZIP each.
CITY_STREETS: tuple[tuple[str, str], ...] = (
    ("N CHARLES ST", "21201"), ("ST PAUL ST", "21218"), ("GREENMOUNT AVE", "21218"),
    ("HARFORD RD", "21214"), ("BELAIR RD", "21213"), ("EDMONDSON AVE", "21229"),
    ("W BALTIMORE ST", "21223"), ("E BALTIMORE ST", "21231"), ("W FAYETTE ST", "21223"),
    ("PENNSYLVANIA AVE", "21217"), ("DRUID HILL AVE", "21217"), ("EUTAW PL", "21217"),
    ("FREDERICK AVE", "21229"), ("WILKENS AVE", "21223"), ("EASTERN AVE", "21224"),
    ("O'DONNELL ST", "21224"), ("BOSTON ST", "21224"), ("FORT AVE", "21230"),
    ("LIGHT ST", "21230"), ("HANOVER ST", "21230"), ("S CHARLES ST", "21230"),
    ("W 36TH ST", "21211"), ("FALLS RD", "21211"), ("ROLAND AVE", "21210"),
    ("W COLD SPRING LN", "21210"), ("LOCH RAVEN BLVD", "21239"), ("THE ALAMEDA", "21218"),
    ("HILLEN RD", "21218"), ("ERDMAN AVE", "21205"), ("PULASKI HWY", "21224"),
    ("E MONUMENT ST", "21205"), ("E PRESTON ST", "21202"), ("W LAFAYETTE AVE", "21217"),
    ("N MONROE ST", "21217"), ("N FULTON AVE", "21217"), ("N CAREY ST", "21217"),
    ("N GILMOR ST", "21217"), ("HOLLINS ST", "21223"), ("WASHINGTON BLVD", "21230"),
    ("POTEE ST", "21225"), ("CHESLEY AVE", "21206"), ("YORK RD", "21212"),
    ("REISTERSTOWN RD", "21215"), ("PARK HEIGHTS AVE", "21215"), ("LIBERTY HEIGHTS AVE", "21207"),
    ("GWYNNS FALLS PKWY", "21216"), ("WALBROOK AVE", "21216"), ("E 25TH ST", "21218"),
    ("E 33RD ST", "21218"), ("GUILFORD AVE", "21218"), ("N MILTON AVE", "21213"),
    ("N PATTERSON PARK AVE", "21205"), ("N BELNORD AVE", "21205"), ("ELLWOOD AVE", "21224"),
    ("S CONKLING ST", "21224"), ("DILLON ST", "21224"), ("FLEET ST", "21231"),
    ("ALICEANNA ST", "21231"), ("W PRATT ST", "21223"), ("FRANKFORD AVE", "21206"),
    ("GLENMORE AVE", "21206"), ("MORAVIA RD", "21206"), ("CURTIS AVE", "21226"),
    ("W NORTH AVE", "21217"), ("E NORTH AVE", "21202"), ("MOSHER ST", "21217"),
)
CITY_PO_BOX_ZIPS = ("21203", "21218", "21224", "21229", "21282")

# Baltimore County places: mailing city, ZIP, streets.
COUNTY_PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("TOWSON", "21204", ("YORK RD", "DULANEY VALLEY RD", "BOSLEY AVE", "ALLEGHENY AVE", "W JOPPA RD")),
    ("TOWSON", "21286", ("TAYLOR AVE", "LOCH RAVEN BLVD", "PUTTY HILL AVE", "E JOPPA RD")),
    ("CATONSVILLE", "21228", ("FREDERICK RD", "INGLESIDE AVE", "MELLOR AVE", "N ROLLING RD")),
    ("DUNDALK", "21222", ("DUNDALK AVE", "MERRITT BLVD", "WISE AVE", "HOLABIRD AVE", "SOLLERS POINT RD")),
    ("ESSEX", "21221", ("EASTERN BLVD", "MARLYN AVE", "BACK RIVER NECK RD")),
    ("PARKVILLE", "21234", ("HARFORD RD", "OLD HARFORD RD", "E JOPPA RD")),
    ("PIKESVILLE", "21208", ("REISTERSTOWN RD", "OLD COURT RD", "SUDBROOK LN")),
    ("RANDALLSTOWN", "21133", ("LIBERTY RD", "HOLBROOK RD", "ROLLING RD")),
    ("OWINGS MILLS", "21117", ("PAINTERS MILL RD", "RED RUN BLVD", "LYONS MILL RD")),
    ("COCKEYSVILLE", "21030", ("YORK RD", "WARREN RD", "SHAWAN RD")),
    ("HALETHORPE", "21227", ("SULPHUR SPRING RD", "WASHINGTON BLVD", "OLD HOMESTEAD RD")),
    ("MIDDLE RIVER", "21220", ("MARTIN BLVD", "EASTERN AVE", "MIDDLE RIVER RD")),
    ("NOTTINGHAM", "21236", ("PERRY HALL BLVD", "RIDGE RD", "BELAIR RD")),
    ("WINDSOR MILL", "21244", ("WINDSOR MILL RD", "ROLLING RD")),
    ("ROSEDALE", "21237", ("PHILADELPHIA RD", "GOLDEN RING RD", "KENWOOD AVE")),
)

# Owners elsewhere in Maryland or out of state: city, state, ZIP, street.
MARYLAND_ELSEWHERE = (
    ("COLUMBIA", "MD", "21044", "LITTLE PATUXENT PKWY"), ("ELLICOTT CITY", "MD", "21043", "MAIN ST"),
    ("SILVER SPRING", "MD", "20910", "GEORGIA AVE"), ("ANNAPOLIS", "MD", "21401", "WEST ST"),
    ("BEL AIR", "MD", "21014", "N MAIN ST"), ("GLEN BURNIE", "MD", "21061", "CRAIN HWY"),
)
OUT_OF_STATE = (
    ("BROOKLYN", "NY", "11201", "ATLANTIC AVE"), ("HOBOKEN", "NJ", "07030", "WASHINGTON ST"),
    ("PHILADELPHIA", "PA", "19103", "WALNUT ST"), ("ARLINGTON", "VA", "22201", "WILSON BLVD"),
    ("WASHINGTON", "DC", "20002", "H ST NE"), ("MIAMI", "FL", "33131", "BRICKELL AVE"),
    ("ATLANTA", "GA", "30303", "PEACHTREE ST NE"), ("HOUSTON", "TX", "77002", "TRAVIS ST"),
    ("LOS ANGELES", "CA", "90012", "W TEMPLE ST"), ("WILMINGTON", "DE", "19801", "N MARKET ST"),
    ("CHARLOTTE", "NC", "28202", "S TRYON ST"), ("BOSTON", "MA", "02108", "TREMONT ST"),
)

FIRST_NAMES = (
    "JAMES", "MARY", "ROBERT", "PATRICIA", "MICHAEL", "LINDA", "WILLIAM", "BARBARA", "DAVID",
    "ELIZABETH", "ANTHONY", "DENISE", "TYRONE", "KEISHA", "DARNELL", "LATOYA", "ANDRE", "TANYA",
    "KEVIN", "SHAWN", "ANGELA", "CARLOS", "MARÍA", "JOSÉ", "LUIS", "ANA", "WEI", "MEI", "MINH",
    "HUONG", "CHIDI", "AMARA", "FATIMA", "AHMED", "PRIYA", "RAJ", "STANLEY", "DOROTHY", "FRANCIS",
    "THERESA", "GLORIA", "REGINALD", "BERNADETTE", "DOMINIC", "RENÉE", "ZOË", "MALIK", "IMANI",
)
LAST_NAMES = (
    "JOHNSON", "WILLIAMS", "BROWN", "JONES", "SMITH", "DAVIS", "JACKSON", "HARRIS", "THOMAS",
    "ROBINSON", "WASHINGTON", "GREEN", "CARTER", "BUTLER", "COLEMAN", "DIGGS", "MITCHELL",
    "KOWALSKI", "NOWAK", "SCHMIDT", "MUELLER", "RUSSO", "DIMARCO", "MCCORMICK", "O'CONNOR",
    "GARCÍA", "HERNÁNDEZ", "PEÑA", "NGUYEN", "TRAN", "KIM", "PARK", "CHEN", "OKAFOR", "ADEYEMI",
    "PATEL", "SHAH", "GOLDBERG", "FRIEDMAN", "KELLY", "MURPHY", "WALLACE", "BOYD", "HOLMES",
)
COMPANY_WORDS = (
    "CHARM CITY", "HARBOR", "PATAPSCO", "CHESAPEAKE", "INNER HARBOR", "FELLS POINT", "MONUMENT",
    "BLUE CRAB", "ROWHOUSE", "BROWNSTONE", "GREENMOUNT", "HAMPDEN", "PIMLICO", "CANTON",
    "JONES FALLS", "GWYNNS FALLS", "BMORE", "OLD TOWN", "DRUID HILL", "PATTERSON PARK",
)
COMPANY_KINDS = (
    "PROPERTIES LLC", "HOLDINGS LLC", "REALTY LLC", "HOMES LLC", "INVESTMENTS LLC", "RENTALS LLC",
    "VENTURES LLC", "PROPERTY MANAGEMENT LLC", "REHAB LLC", "HOUSING PARTNERS LP",
)
AGENTS = (
    "C/O JANE DOE", "C/O RESIDENT AGENTS OF MARYLAND INC", "C/O HARBOR PROPERTY MANAGEMENT",
    "C/O ACCOUNTS PAYABLE", "C/O MANAGING MEMBER",
)
ECB_FINES = ("50.00", "100.00", "150.00", "200.00", "250.00", "300.00", "500.00", "750.00", "1000.00")
WATER_QUARTERS = ("2026-Q2", "2026-Q3", "2026-Q4")


def money(value: Decimal | float | int | str) -> str:
    """Format a value as a plain decimal with exactly two places, rounded half up."""
    return str(Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP))


def _between(rng: random.Random, low: float, high: float) -> Decimal:
    cents = rng.randint(round(low * 100), round(high * 100))
    return Decimal(cents) / 100


def _line(source: str, period: str, amount: Decimal, interest: Decimal = Decimal(0),
          penalty: Decimal = Decimal(0)) -> dict[str, str]:
    return {"source": source, "period": period, "amount": money(amount),
            "interest": money(interest), "penalty": money(penalty)}


def _fy_months_late(fiscal_year: int) -> int:
    """Months from the Oct 1 delinquency date of a fiscal year's bill to Feb 1, 2027."""
    return 4 + 12 * (2027 - fiscal_year)


def _person(rng: random.Random, last: str | None = None, not_first: str = "") -> str:
    first = rng.choice([name for name in FIRST_NAMES if name != not_first])
    middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}" if rng.random() < 0.6 else ""
    return f"{first}{middle} {last or rng.choice(LAST_NAMES)}"


def _company(rng: random.Random, street_line: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return f"{street_line} LLC"  # a single-property LLC named for its address
    if roll < 0.3:
        return f"{rng.choice(COMPANY_WORDS)} {rng.randint(2, 19)} LLC"
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"


def _owners(rng: random.Random, street_line: str) -> tuple[str, str, bool]:
    """Owner name, second owner or care-of line, and whether the owner lives there."""
    roll = rng.random()
    if roll < 0.45:
        return _person(rng), "", rng.random() < 0.75
    if roll < 0.65:
        last = rng.choice(LAST_NAMES)
        first = _person(rng, last)
        second = _person(rng, last if rng.random() < 0.7 else None, first.split()[0])
        return first, second, rng.random() < 0.8
    if roll < 0.87:
        return _company(rng, street_line), rng.choice(AGENTS) if rng.random() < 0.4 else "", False
    if roll < 0.93:
        return f"ESTATE OF {_person(rng)}", f"C/O {_person(rng)}" if rng.random() < 0.7 else "", False
    last = rng.choice(LAST_NAMES)
    trust = rng.choice((f"{last} FAMILY REVOCABLE TRUST", f"{last} LIVING TRUST",
                        "NEW HOPE BAPTIST CHURCH INC", "GREATER MOUNT ZION AME CHURCH INC"))
    return trust, f"C/O {_person(rng, last)} TRUSTEE" if "TRUST" in trust else "", False


def _zip_plus_4(rng: random.Random, zip5: str) -> str:
    return f"{zip5}-{rng.randint(1000, 9999)}" if rng.random() < 0.15 else zip5


def _mailing(rng: random.Random, occupied: bool, street_line: str, unit: str, zip5: str,
             home_city: str, local: Callable[[], tuple[str, str, str]],
             po_box_zips: Sequence[str] = ()) -> dict[str, str]:
    """The mailing address: the property itself, another local address, a PO box, or elsewhere."""
    roll = rng.random()
    if occupied:
        line1, line2, city, state, zip_ = street_line, unit, home_city, "MD", zip5
    elif roll < 0.12:
        _, city, zip_ = local()
        if po_box_zips:
            zip_ = rng.choice(po_box_zips)
        line1, line2, state = f"PO BOX {rng.randint(1, 67999)}", "", "MD"
    elif roll < 0.57:
        number_street, city, zip_ = local()
        line1, state = number_street, "MD"
        line2 = f"{rng.choice(('APT', 'STE', 'UNIT'))} {rng.randint(1, 40)}" if rng.random() < 0.2 else ""
    else:
        city, state, zip_, street = rng.choice(
            MARYLAND_ELSEWHERE if roll < 0.72 else OUT_OF_STATE)
        line1 = f"{rng.randint(10, 9999)} {street}"
        line2 = f"STE {rng.randint(100, 2400)}" if rng.random() < 0.25 else ""
    return {"mailing_address_1": line1, "mailing_address_2": line2, "mailing_city": city,
            "mailing_state": state, "mailing_zip": _zip_plus_4(rng, zip_)}


def _account(account_id: str, owner: str, owner_2: str, mailing: Mapping[str, str],
             property_address: str, advertised: str, lines: list[dict[str, str]]) -> Account:
    """Assemble an account dict in the JSON Lines shape; empty optional fields are left out."""
    account: Account = {"account_id": account_id, "owner_name": owner, "owner_name_2": owner_2,
                        **mailing, "property_address": property_address,
                        "first_advertisement_date": advertised}
    account = {key: account[key] for key in ACCOUNT_FIELDS
               if account[key] or key not in OPTIONAL_ACCOUNT_FIELDS}
    account["lines"] = lines
    return account


def _city_lines(rng: random.Random) -> list[dict[str, str]]:
    lines: list[dict[str, str]] = []
    assessed = Decimal(round(rng.triangular(15_000, 380_000, 70_000)))
    tax = assessed * Decimal("2.36") / 100  # City $2.248 + State $0.112 per $100
    if rng.random() < 0.25:
        tax /= 2  # second semiannual installment only
    years = [2027] if rng.random() < 0.8 else rng.choice(([2026, 2027], [2025, 2026, 2027], [2026]))
    for year in years:
        months = _fy_months_late(year)
        late = year < 2027 or rng.random() < 0.7
        interest = tax * months / 100 if late else Decimal(0)
        penalty = tax * months / 200 if late and (year < 2027 or rng.random() < 0.4) else Decimal(0)
        lines.append(_line("Real property tax", f"FY {year}", tax, interest, penalty))
    if rng.random() < 0.4:
        for quarter in sorted(rng.sample(WATER_QUARTERS, rng.choice((1, 1, 2)))):
            bill = _between(rng, 120, 780)
            interest = bill * rng.choice((0, 0, 1, 2, 3)) / 100
            lines.append(_line("Water and sewer", quarter, bill, interest))
    extras: tuple[tuple[float, Callable[[], dict[str, str]]], ...] = (
        (0.12, lambda: _line("Stormwater", "FY 2027", _between(rng, 36, 180))),
        (0.22, lambda: _line("Environmental citation", f"ECB {rng.randint(1_000_000, 9_999_999)}",
                             Decimal(rng.choice(ECB_FINES)), Decimal(0),
                             Decimal(rng.choice(ECB_FINES)) / 2 if rng.random() < 0.3 else Decimal(0))),
        (0.08, lambda: _line("Property registration", "2026", Decimal(30 * rng.randint(1, 4)),
                             Decimal(0), Decimal(rng.choice((0, 0, 25, 50))))),
        (0.05, lambda: _line("Minor privilege", "FY 2027", _between(rng, 20, 480))),
        (0.05, lambda: _line("Miscellaneous", f"BILL {rng.randint(7_000_000, 7_999_999)}",
                             _between(rng, 50, 1900), _between(rng, 0, 40))),
        (0.03, lambda: _line("Alley and footway paving", "FY 2027", _between(rng, 100, 1500))),
    )
    for chance, make in extras:
        if rng.random() < chance and len(lines) < 6:
            lines.append(make())
    return lines[:6]


def baltimore_city_accounts(n: int, seed: int = 2027) -> list[Account]:
    """Make n Baltimore City accounts (ward-section-block-lot ids, itemized lien lines)."""
    rng = random.Random(seed)
    accounts: list[Account] = []
    seen: set[str] = set()

    def local() -> tuple[str, str, str]:
        street, zip5 = rng.choice(CITY_STREETS)
        return f"{rng.randint(100, 5999)} {street}", "BALTIMORE", zip5

    while len(accounts) < n:
        account_id = (f"{rng.randint(1, 28):02d}-{rng.randint(1, 18):02d}-"
                      f"{rng.randint(1, 8499):04d}-{rng.randint(1, 99):03d}")
        if account_id in seen:
            continue
        seen.add(account_id)
        street, zip5 = rng.choice(CITY_STREETS)
        street_line = f"{rng.randint(100, 5999)} {street}"
        unit = f"UNIT {rng.randint(1, 12)}{rng.choice('ABCD')}" if rng.random() < 0.08 else ""
        owner, owner_2, occupied = _owners(rng, street_line)
        mailing = _mailing(rng, occupied, street_line, unit, zip5, "BALTIMORE", local,
                           CITY_PO_BOX_ZIPS)
        advertised = rng.choice(CITY_ADVERTISEMENT_DATES) if rng.random() < 0.75 else ""
        property_address = f"{street_line} {unit}".strip()
        accounts.append(_account(account_id, owner, owner_2, mailing, property_address,
                                 advertised, _city_lines(rng)))
    return accounts


def _county_lines(rng: random.Random) -> list[dict[str, str]]:
    assessed = _between(rng, 95_000, 520_000)
    tax = assessed * Decimal("1.212") / 100  # County $1.10 + State $0.112 per $100
    years = [2027] if rng.random() < 0.85 else [2026, 2027]
    lines = []
    for year in years:
        months = _fy_months_late(year) + 1
        interest = tax * months / 100 if rng.random() < 0.8 or year < 2027 else Decimal(0)
        penalty = tax * months / 200 if year < 2027 else Decimal(0)
        lines.append(_line("Real property tax", f"FY {year}", tax, interest, penalty))
    if rng.random() < 0.55:
        charge = _between(rng, 280, 1150)
        lines.append(_line("Metropolitan district", "FY 2027", charge, charge * 5 / 100))
    if rng.random() < 0.2:
        lines.append(_line("Solid waste", "FY 2027", _between(rng, 60, 320)))
    return lines


def baltimore_county_accounts(n: int, seed: int = 2027) -> list[Account]:
    """Make n Baltimore County accounts (10-digit ids: district and account number)."""
    rng = random.Random(seed)
    accounts: list[Account] = []
    seen: set[str] = set()
    while len(accounts) < n:
        account_id = f"{rng.randint(1, 15):02d}{rng.randint(0, 99_999_999):08d}"
        if account_id in seen:
            continue
        seen.add(account_id)
        home_city, zip5, streets = rng.choice(COUNTY_PLACES)
        street = rng.choice(streets)
        street_line = f"{rng.randint(1, 12999)} {street}"

        def local() -> tuple[str, str, str]:
            city, zip_, other_streets = rng.choice(COUNTY_PLACES)
            return f"{rng.randint(1, 12999)} {rng.choice(other_streets)}", city, zip_

        owner, owner_2, occupied = _owners(rng, street_line)
        mailing = _mailing(rng, occupied, street_line, "", zip5, home_city, local)
        advertised = rng.choice(COUNTY_ADVERTISEMENT_DATES) if rng.random() < 0.5 else ""
        accounts.append(_account(account_id, owner, owner_2, mailing, street_line, advertised,
                                 _county_lines(rng)))
    return accounts


def csv_rows(accounts: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Flatten accounts into CSV rows (no header): one row per tax line."""
    rows = []
    for account in accounts:
        head = [str(account.get(key, "")) for key in ACCOUNT_FIELDS]
        for line in account["lines"]:
            rows.append(head + [str(line.get(key, "")) for key in LINE_FIELDS])
    return rows


def write_csv(accounts: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write accounts as a UTF-8 CSV roll export: header row, then one row per tax line."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(accounts))


def write_jsonl(accounts: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write accounts as UTF-8 JSON Lines: one object per account; empty optional keys left out."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for account in accounts:
            record: dict[str, Any] = {
                key: account[key] for key in ACCOUNT_FIELDS
                if key in account and (account[key] or key not in OPTIONAL_ACCOUNT_FIELDS)
            }
            record["lines"] = [{key: line[key] for key in LINE_FIELDS if line.get(key, "") != ""}
                               for line in account["lines"]]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


GENERATORS: dict[str, Callable[[int, int], list[Account]]] = {
    "baltimore-city": baltimore_city_accounts,
    "baltimore-county": baltimore_county_accounts,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and write one synthetic roll export."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collector", choices=sorted(GENERATORS), default="baltimore-city")
    parser.add_argument("--count", type=int, default=1000, help="number of accounts")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    accounts = GENERATORS[args.collector](args.count, args.seed)
    (write_csv if args.format == "csv" else write_jsonl)(accounts, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
