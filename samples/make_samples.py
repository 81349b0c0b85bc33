"""Write the sample roll exports and samples/README.md: generated accounts plus hand-made edge cases.

Run from anywhere: ``python samples/make_samples.py``. The output is deterministic; the script
checks every file it writes and fails if a happy-path sample has an invalid record or if
bad-roll.csv does not break exactly where the README says it does.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))

import synthetic  # noqa: E402  (bench/synthetic.py, found through the path above)
from synthetic import (  # noqa: E402
    ACCOUNT_FIELDS,
    CSV_COLUMNS,
    OPTIONAL_ACCOUNT_FIELDS,
    Account,
    money,
)

NOTICE_DATE = dt.date(2027, 2, 1)  # Baltimore City mails its Final Bill and Legal Notice in early February
CITY_GENERATED = 50
CITY_SEED = 2027
COUNTY_COUNT = 20
COUNTY_SEED = 2027
BAD_ROLL_GOOD_SEED = 90210


def line(source: str, period: str, amount: str, interest: str = "0.00",
         penalty: str = "0.00") -> dict[str, str]:
    return {"source": source, "period": period, "amount": amount, "interest": interest,
            "penalty": penalty}


def rpt(fiscal_year: int, amount: str) -> dict[str, str]:
    """A real property tax line with 1 %/month interest and 0.5 %/month penalty since Oct 1."""
    months = 4 + 12 * (2027 - fiscal_year)
    value = Decimal(amount)
    return line("Real property tax", f"FY {fiscal_year}", amount, money(value * months / 100),
                money(value * months / 200))


def account(account_id: str, owner: str, address: tuple[str, str, str, str, str],
            property_address: str, lines: list[dict[str, str]], owner_2: str = "",
            advertised: str = "2027-03-15") -> Account:
    line1, line2, city, state, zip_ = address
    fields = {"account_id": account_id, "owner_name": owner, "owner_name_2": owner_2,
              "mailing_address_1": line1, "mailing_address_2": line2, "mailing_city": city,
              "mailing_state": state, "mailing_zip": zip_, "property_address": property_address,
              "first_advertisement_date": advertised}
    result: Account = {key: value for key, value in fields.items()
                       if value or key not in OPTIONAL_ACCOUNT_FIELDS}
    result["lines"] = lines
    return result


def at_property(street_line: str, zip_: str, line2: str = "") -> tuple[str, str, str, str, str]:
    return (street_line, line2, "BALTIMORE", "MD", zip_)


def many_lines() -> list[dict[str, str]]:
    """24 lien lines: six fiscal years of tax, nine water quarters, stormwater, ECB, registration."""
    lines = [rpt(year, amount) for year, amount in (
        (2022, "1688.40"), (2023, "1712.55"), (2024, "1736.20"), (2025, "1759.90"),
        (2026, "1783.35"), (2027, "1806.85"))]
    water = ("297.10", "344.87", "402.15", "377.60", "289.33", "310.08", "366.91", "421.47",
             "395.26")
    quarters = [f"{year}-Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)][3:]
    for index, (quarter, amount) in enumerate(zip(quarters, water, strict=True)):
        interest = money(Decimal(amount) * (len(water) - index) * 3 / 100)
        lines.append(line("Water and sewer", quarter, amount, interest))
    lines += [line("Stormwater", f"FY {year}", "144.00", money(Decimal("1.44") * (2028 - year) * 6))
              for year in (2025, 2026, 2027)]
    lines += [
        line("Environmental citation", "ECB 5488190", "100.00", "0.00", "50.00"),
        line("Environmental citation", "ECB 5512034", "250.00", "0.00", "125.00"),
        line("Environmental citation", "ECB 5623871", "500.00", "0.00", "250.00"),
        line("Environmental citation", "ECB 5790412", "1000.00"),
        line("Property registration", "2025", "35.00", "0.00", "50.00"),
        line("Property registration", "2026", "35.00", "0.00", "25.00"),
    ]
    assert len(lines) == 24
    return lines


# What each hand-made City account is there for (README table; same order as city_edge_cases).
EDGE_NOTES: dict[str, str] = {
    "09-03-3887-012": "two owners (`owner_name_2`)",
    "12-06-1127-004": 'care-of line in `owner_name_2` ("C/O JANE DOE")',
    "26-01-6311-027": "care-of line in `mailing_address_2`, with a comma and double quotes "
                      "(a quoted CSV field)",
    "02-04-1398-031": "91-character LLC name, 85-character mailing street line, long care-of "
                      "owner line, ZIP+4",
    "15-17-0035-001": "89-character property address",
    "20-03-2311-018": "24 lien lines (six fiscal years of tax, nine water quarters, stormwater, "
                      "four ECB citations, property registration) with interest and penalty: "
                      "the itemized table runs past one page; PO box; advertised exactly 35 "
                      "days after 2027-02-01",
    "13-12-3672-040": "PO box with ZIP+4",
    "06-08-1745-022": "out-of-state PO box (Wilmington, DE)",
    "03-02-1768-009": "accented names, two owners (José Núñez, María Núñez), ZIP+4",
    "14-01-0349-015": '"Zoë Ångström"; apartment in `mailing_address_2`; no advertisement date',
    "26-05-6289-033": 'Vietnamese diacritics ("Nguyễn Thị Hoa")',
    "01-05-1871-006": "apostrophe and ampersand in the owner (\"O'Brien & Sons\"); apostrophe "
                      "in the street (O'DONNELL ST)",
    "27-09-4512-018": "out-of-state owner (Brooklyn, NY)",
    "08-11-4179-051": "out-of-state owner with a leading-zero ZIP+4 (Hoboken, NJ 07030-5801)",
    "21-10-0712-003": "empty `interest` and `penalty` cells (default 0); the keys are left out "
                      "in the JSON Lines file",
    "02-01-1360-014": 'a six-figure tax line (thousands separators); "ATTN" line; PO box',
    "19-02-2210-008": "a single $50 ECB citation",
}


def city_edge_cases() -> list[Account]:
    """Hand-made Baltimore City accounts, each there for one thing the renderer must survive."""
    return [
        account("09-03-3887-012", "MARCUS T WILLIAMS", at_property("3011 GUILFORD AVE", "21218"),
                "3011 GUILFORD AVE", [rpt(2027, "2184.30")], owner_2="DENISE R WILLIAMS"),
        account("12-06-1127-004", "HARBORVIEW ROWHOMES LLC",
                ("400 E PRATT ST", "STE 800", "BALTIMORE", "MD", "21202"), "1815 FLEET ST",
                [rpt(2027, "3927.16"), line("Water and sewer", "2026-Q4", "512.40", "5.12")],
                owner_2="C/O JANE DOE"),
        account("26-01-6311-027", "ESTATE OF WALTER J KOWALSKI",
                ("3804 ELLWOOD AVE", 'C/O MARIA "MARY" KOWALSKI, PERSONAL REP', "BALTIMORE", "MD",
                 "21224"), "3804 ELLWOOD AVE",
                [rpt(2026, "1402.75"), rpt(2027, "1425.90")]),
        account("02-04-1398-031",
                "GREATER NORTHEAST BALTIMORE COMMUNITY REVITALIZATION AND AFFORDABLE HOUSING "
                "PARTNERS II LLC",
                ("ONE SOUTH STREET TWENTY-SEVENTH FLOOR ATTENTION REAL ESTATE TAX COMPLIANCE "
                 "DEPARTMENT", "C/O CHESAPEAKE COMMUNITY DEVELOPMENT CORPORATION", "BALTIMORE",
                 "MD", "21202-3282"), "2100 HARFORD RD",
                [rpt(2027, "6012.44"), line("Stormwater", "FY 2027", "288.00"),
                 line("Alley and footway paving", "FY 2027", "1184.00", "23.68")],
                owner_2="C/O ALEXANDRA WHITFIELD-MONTGOMERY, MANAGING MEMBER"),
        account("15-17-0035-001", "MLK BOULEVARD COMMERCE CENTER LLC",
                ("1 E PRATT ST", "STE 1400", "BALTIMORE", "MD", "21202"),
                "1200-1230 N MARTIN LUTHER KING JR BLVD REAR WAREHOUSE BUILDING B AND ADJACENT "
                "PARKING LOT",
                [rpt(2027, "9814.02"), line("Minor privilege", "FY 2027", "412.50"),
                 line("Miscellaneous", "BILL 7304418", "1875.00", "37.50")]),
        account("20-03-2311-018", "DARNELL L HOLMES",
                ("PO BOX 33817", "", "BALTIMORE", "MD", "21218-0817"), "2211 N FULTON AVE",
                many_lines(), advertised="2027-03-08"),
        account("13-12-3672-040", "GLORIA E MITCHELL",
                ("PO BOX 4417", "", "BALTIMORE", "MD", "21203-4417"), "3019 E MONUMENT ST",
                [rpt(2027, "1127.48"), line("Water and sewer", "2026-Q3", "248.16", "7.44")]),
        account("06-08-1745-022", "ATLANTIC RIDGE HOLDINGS LLC",
                ("PO BOX 1021", "", "WILMINGTON", "DE", "19899"), "2608 E PRESTON ST",
                [rpt(2027, "2388.12"), line("Property registration", "2026", "30.00", "0.00",
                                            "25.00")]),
        account("03-02-1768-009", "José Núñez",
                ("214 S ANN ST", "", "BALTIMORE", "MD", "21231-2307"), "214 S ANN ST",
                [rpt(2027, "2741.08")], owner_2="María Núñez"),
        account("14-01-0349-015", "Zoë Ångström",
                ("1520 BOLTON ST", "APT 3R", "BALTIMORE", "MD", "21217"), "1520 BOLTON ST",
                [rpt(2027, "3318.56"), line("Water and sewer", "2026-Q4", "186.20")],
                advertised=""),
        account("26-05-6289-033", "Nguyễn Thị Hoa", at_property("3307 E BALTIMORE ST", "21224"),
                "3307 E BALTIMORE ST",
                [rpt(2027, "1596.14"), line("Environmental citation", "ECB 6031277", "150.00")]),
        account("01-05-1871-006", "O'Brien & Sons",
                ("1700 THAMES ST", "STE 2", "BALTIMORE", "MD", "21231"), "2901 O'DONNELL ST",
                [rpt(2027, "4402.90"), line("Water and sewer", "2026-Q3", "611.35", "18.34"),
                 line("Environmental citation", "ECB 6120954", "300.00", "0.00", "150.00")]),
        account("27-09-4512-018", "RIVERSIDE CAPITAL PARTNERS LLC",
                ("350 ATLANTIC AVE", "FL 4", "BROOKLYN", "NY", "11217"), "3714 PARK HEIGHTS AVE",
                [rpt(2026, "1310.42"), rpt(2027, "1333.06"),
                 line("Environmental citation", "ECB 6244107", "750.00")]),
        account("08-11-4179-051", "LATOYA N BUTLER",
                ("77 RIVER ST", "APT 5C", "HOBOKEN", "NJ", "07030-5801"), "2407 E 25TH ST",
                [rpt(2027, "1689.22")]),
        account("21-10-0712-003", "ANGELA M DIGGS", at_property("1932 W NORTH AVE", "21217"),
                "1932 W NORTH AVE",  # no interest or penalty keys: empty CSV cells, default 0
                [{"source": "Real property tax", "period": "FY 2027", "amount": "1244.70"},
                 {"source": "Water and sewer", "period": "2026-Q4", "amount": "139.55"}]),
        account("02-01-1360-014", "HARBOR EAST TOWER ASSOCIATES LP",
                ("PO BOX 1737", "ATTN TAX DEPT", "BALTIMORE", "MD", "21203-1737"),
                "650 S EXETER ST",
                [rpt(2027, "148215.60"), line("Water and sewer", "2026-Q4", "12480.33", "124.80"),
                 line("Stormwater", "FY 2027", "3216.00")]),
        account("19-02-2210-008", "GRZEGORZ A NOWAK", at_property("812 S CONKLING ST", "21224"),
                "812 S CONKLING ST", [line("Environmental citation", "ECB 6305518", "50.00")],
                advertised="2027-03-22"),
    ]


BadCase = tuple[str, str, int, str, bool]  # account_id, the account's lines, bad line, problem, valid?


def bad_roll() -> tuple[list[list[str]], list[BadCase]]:
    """Rows of bad-roll.csv, and one BadCase per account for the README table."""
    good = synthetic.baltimore_city_accounts(3, seed=BAD_ROLL_GOOD_SEED)

    def simple(account_id: str, owner: str, street: str, zip_: str,
               lines: list[dict[str, str]]) -> Account:
        return account(account_id, owner, at_property(street, zip_), street, lines, advertised="")

    accounts: list[tuple[Account, str, int | None, bool]] = [
        # (account, problem, index of the row that carries it or None for every row, valid?)
        (good[0], "none: a good account", None, True),
        (simple("11-04-2208-017", "KEVIN J HARRIS", "1407 N MILTON AVE", "21213",
                [rpt(2027, "1502.33"), line("Water and sewer", "2026-Q4", "12,34x")]),
         'non-numeric amount "12,34x"', 1, False),
        (simple("11-04-2208-018", "PATRICIA L GREEN", "1409 N MILTON AVE", "21213",
                [rpt(2027, "1490.11"), line("Water and sewer", "2026-Q3", "-125.00")]),
         'negative amount "-125.00"', 1, False),
        (simple("16-02-2431-006", "", "2516 W LAFAYETTE AVE", "21217", [rpt(2027, "988.40")]),
         "missing owner_name (empty on every row of the account)", None, False),
        (account("22-07-0614-020", "STANLEY P RUSSO",
                 ("4402 FALLS RD", "", "BALTIMORE", "Maryland", "21211"), "4402 FALLS RD",
                 [rpt(2027, "3011.78")], advertised=""),
         'invalid state "Maryland" (not a 2-letter USPS code)', None, False),
        (account("22-07-0614-021", "THERESA A KELLY",
                 ("4404 FALLS RD", "", "BALTIMORE", "MD", "2120"), "4404 FALLS RD",
                 [rpt(2027, "2987.15")], advertised=""),
         'invalid ZIP "2120" (four digits)', None, False),
        (simple("../../etc/passwd", "ROBERT C JONES", "3111 CHESLEY AVE", "21206",
                [rpt(2027, "1870.26")]),
         'account_id "../../etc/passwd" (a path, not ward-section-block-lot)', None, False),
        (simple("07-13-1573-044", "<b>Ann</b> <script>alert(1)</script>", "1123 N CAREY ST",
                "21217", [rpt(2027, "764.02"), line("Water and sewer", "2026-Q4", "201.87")]),
         "VALID: owner name `<b>Ann</b> <script>alert(1)</script>` must print literally, as "
         "text, never as markup", None,
         True),
        (account("10-05-0310-012", "FRANCIS X MURPHY", at_property("631 S CAREY ST", "21223"),
                 "631 S CAREY ST", [rpt(2027, "1245.67")], advertised="2027-02-11"),
         "first_advertisement_date 2027-02-11 is only 10 days after the 2027-02-01 notice date "
         "(30 required)", None, False),
        (good[1], "none: a good account", None, True),
        (simple("25-11-7519-037", "TANYA R BOYD", "1818 POTEE ST", "21225",
                [rpt(2027, "2210.45"), line("Water and sewer", "2026-Q4", "331.20")]),
         'rows disagree on owner_name: "TANYA R BOYD" then "TANYA BOYD"', 1, False),
        (simple("04-09-0558-025", "MALIK D COLEMAN", "918 W BALTIMORE ST", "21223",
                [line("Environmental citation", "ECB 6411873", "1.005")]),
         'amount "1.005" has 3 decimal places', 0, False),
        (good[2], "none: a good account", None, True),
    ]
    rows: list[list[str]] = []
    table: list[BadCase] = []
    owner_column = CSV_COLUMNS.index("owner_name")
    for acct, problem, row_index, valid in accounts:
        acct_rows = synthetic.csv_rows([acct])
        first = len(rows) + 2  # physical line: header is line 1
        if problem.startswith("rows disagree"):
            acct_rows[1][owner_column] = "TANYA BOYD"
        rows += acct_rows
        last = first + len(acct_rows) - 1
        where = first + row_index if row_index is not None else first
        span = f"{first}" if first == last else f"{first}-{last}"
        table.append((acct["account_id"], span, where, problem, valid))
    return rows, table


# ----------------------------------------------------------------------------- checks

ZIP = re.compile(r"\d{5}(-\d{4})?")
STATE = re.compile(r"[A-Z]{2}")
MONEY = re.compile(r"\d+\.\d{2}")
CITY_ID = re.compile(r"\d{2}-\d{2}-\d{4}-\d{3}")
COUNTY_ID = re.compile(r"\d{10}")
REQUIRED = ("account_id", "owner_name", "mailing_address_1", "mailing_city", "mailing_state",
            "mailing_zip", "property_address", "source", "period", "amount")


def row_problems(row: dict[str, str], account_id: re.Pattern[str], earliest: dt.date) -> list[str]:
    """A small stand-in for the real validator, enough to prove the samples say what we claim."""
    problems = [f"missing {key}" for key in REQUIRED if not row[key].strip()]
    if row["account_id"] and not account_id.fullmatch(row["account_id"]):
        problems.append("account_id format")
    if row["mailing_state"] and not STATE.fullmatch(row["mailing_state"]):
        problems.append("state")
    if row["mailing_zip"] and not ZIP.fullmatch(row["mailing_zip"]):
        problems.append("zip")
    for key in ("amount", "interest", "penalty"):
        value = row[key]
        if value and not MONEY.fullmatch(value):
            problems.append(f"{key} format")
    if MONEY.fullmatch(row["amount"]) and Decimal(row["amount"]) <= 0:
        problems.append("amount not positive")
    advertised = row["first_advertisement_date"]
    if advertised and dt.date.fromisoformat(advertised) < earliest:
        problems.append("advertised too soon")
    return problems


def check_csv(path: Path, account_id: re.Pattern[str], earliest: dt.date) -> dict[int, list[str]]:
    """Problems by physical line; also checks the header and that accounts' rows agree."""
    text = path.read_text(encoding="utf-8")
    assert "\r" not in text and text.endswith("\n"), path
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS, path
        found: dict[int, list[str]] = {}
        heads: dict[str, tuple[str, ...]] = {}
        for number, row in enumerate(reader, start=2):
            assert reader.line_num == number, "a field spans lines"
            assert None not in row and all(value is not None for value in row.values())
            problems = row_problems(row, account_id, earliest)
            head = tuple(row[key] for key in ACCOUNT_FIELDS)
            if heads.setdefault(row["account_id"], head) != head:
                problems.append("rows disagree")
            if problems:
                found[number] = problems
    return found


def grouped(path: Path) -> list[dict[str, Any]]:
    """Read a CSV back into JSON Lines shaped accounts (empty optional values left out)."""
    accounts: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            acct = accounts.setdefault(row["account_id"], {
                key: row[key] for key in ACCOUNT_FIELDS
                if row[key] or key not in OPTIONAL_ACCOUNT_FIELDS} | {"lines": []})
            acct["lines"].append({key: row[key] for key in synthetic.LINE_FIELDS if row[key]})
    return list(accounts.values())


def write_readme(path: Path, table: Sequence[BadCase],
                 counts: dict[str, tuple[int, int]]) -> None:
    bad_rows = "\n".join(
        f"| {span} | {'' if valid else where} | `{acct}` | {problem} | "
        f"{'valid' if valid else 'rejected'} |"
        for acct, span, where, problem, valid in table)
    city_accounts, city_rows = counts["city"]
    county_accounts, county_rows = counts["county"]
    bad_accounts, bad_row_count = counts["bad"]
    files = (
        ("baltimore-city-final-notices.csv", "Baltimore City Final Bill and Legal Notice run, "
         "the happy path: every record is valid", city_accounts, city_rows),
        ("baltimore-city-final-notices.jsonl", "the same accounts, in the same order, as JSON Lines",
         city_accounts, city_accounts),
        ("baltimore-county-final-notices.csv", "Baltimore County, the happy path: every record "
         "is valid", county_accounts, county_rows),
        ("bad-roll.csv", "Baltimore City, with one deliberate problem per bad account (table "
         "below)", bad_accounts, bad_row_count),
    )
    file_rows = "\n".join(f"| `{name}` | {what} | {n} | {rows} |" for name, what, n, rows in files)
    file_rows += "\n| `make_samples.py` | writes all of the above and this README, then checks them | | |"
    edge_rows = "\n".join(f"| `{acct}` | {note} |" for acct, note in EDGE_NOTES.items())
    path.write_text(f"""# Samples

Synthetic roll exports in the input format the tool reads (see the format below). **Every name,
address, account number and citation number here is made up**; any likeness to a real owner or
property is chance. Street names, ZIP codes, lien sources and tax rates are real-world shaped so
the notices look right.

This file is written by `make_samples.py`; edit that script, not this file.

| file | what it is | accounts | rows |
| --- | --- | --- | --- |
{file_rows}

## How they were made

```sh
.venv/bin/python samples/make_samples.py     # rewrites every file above; deterministic
```

The script takes {CITY_GENERATED} generated Baltimore City accounts
(`baltimore_city_accounts({CITY_GENERATED}, seed={CITY_SEED})`) and puts {len(EDGE_NOTES)}
hand-made edge cases in front of them; Baltimore County is
`baltimore_county_accounts({COUNTY_COUNT}, seed={COUNTY_SEED})`.
The generator also has a command line, for benchmark-sized files:

```sh
python bench/synthetic.py --collector baltimore-city --count 30000 --format csv --out /tmp/city.csv
python bench/synthetic.py --collector baltimore-county --count 1000 --format jsonl \\
    --out /tmp/county.jsonl --seed 7
```

Hand-made Baltimore City edge cases (the first accounts in the file):

| account | what it exercises |
| --- | --- |
{edge_rows}

The generated accounts add owner-occupied homes, landlords (LLCs, some with a care-of line),
estates, trusts and churches, second owners, owners elsewhere in Maryland and out of state, PO
boxes, ZIP+4, units, and 1-6 lien lines each.

## Dates

The Baltimore City samples assume the notice date **2027-02-01** (the City mails the Final Bill
and Legal Notice in the first week of February). Every `first_advertisement_date` is empty or
2027-03-08 or later (35 days or more after the notice date). The Baltimore County samples use
2027-04-05 or 2027-04-12, which also passes with a notice date of 2027-03-01 (the County's
"final tax sale notice March 1"). Real property tax periods are fiscal years: FY 2027 is the bill
issued July 2026, delinquent October 2026, sold May 2027.

## Values that are placeholders

Amounts are synthetic: tax is an invented assessment times $2.36 per $100 (City $2.248 + State
$0.112) in the City and times $1.212 in the County; interest (1 % a month) and penalty (0.5 % a
month) are invented rates, not the collectors' published ones. Citation, bill and PO box numbers
are random. The Baltimore County sources "Metropolitan district" and "Solid waste" are labels for
the sample, not a statement of what the County sells at tax sale.

## Format

UTF-8, no BOM, `\\n` line ends, a header row, one row per tax line; the rows of one account repeat
its account-level fields. Columns:

`{", ".join(CSV_COLUMNS)}`

JSON Lines: one object per account with the account-level keys (empty optional ones left out) and
`"lines"`: a list of `{{"source", "period", "amount", "interest", "penalty"}}`, money as strings.

## bad-roll.csv

{bad_accounts} accounts, {bad_row_count} rows. Each bad account has exactly one problem; the
others are good. Line numbers are physical lines of the file, the header being line 1.
"Lines" are the account's rows; "bad line" is the row that carries the problem (for a problem in
an account-level field, every row of the account carries it; these accounts have one row).

| lines | bad line | account_id | problem | expected |
| --- | --- | --- | --- | --- |
{bad_rows}
""", encoding="utf-8")


def main() -> int:
    city = city_edge_cases() + synthetic.baltimore_city_accounts(CITY_GENERATED, seed=CITY_SEED)
    county = synthetic.baltimore_county_accounts(COUNTY_COUNT, seed=COUNTY_SEED)
    ids = [acct["account_id"] for acct in city]
    assert len(ids) == len(set(ids)), "duplicate account_id in the City sample"
    assert ids[: len(EDGE_NOTES)] == list(EDGE_NOTES), "EDGE_NOTES out of step with the cases"

    city_csv = HERE / "baltimore-city-final-notices.csv"
    city_jsonl = HERE / "baltimore-city-final-notices.jsonl"
    county_csv = HERE / "baltimore-county-final-notices.csv"
    bad_csv = HERE / "bad-roll.csv"
    synthetic.write_csv(city, city_csv)
    synthetic.write_jsonl(city, city_jsonl)
    synthetic.write_csv(county, county_csv)
    rows, table = bad_roll()
    with bad_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)

    # The happy paths are clean, and the JSON Lines file is the CSV, account for account.
    city_earliest = NOTICE_DATE + dt.timedelta(days=35)
    assert check_csv(city_csv, CITY_ID, city_earliest) == {}, check_csv(city_csv, CITY_ID, city_earliest)
    assert check_csv(county_csv, COUNTY_ID, dt.date(2027, 4, 5)) == {}
    from_jsonl = [json.loads(text) for text in city_jsonl.read_text(encoding="utf-8").splitlines()]
    assert from_jsonl == grouped(city_csv) == [
        {**acct, "lines": [{k: v for k, v in ln.items() if v} for ln in acct["lines"]]}
        for acct in city]
    assert max(len(acct["lines"]) for acct in city) == 24
    # bad-roll.csv breaks exactly on the documented lines, and nowhere else.
    found = check_csv(bad_csv, CITY_ID, NOTICE_DATE + dt.timedelta(days=30))
    expected = {where for _, _, where, _, valid in table if not valid}
    assert set(found) == expected, (sorted(found), sorted(expected))

    write_readme(HERE / "README.md", table, {
        "city": (len(city), sum(len(a["lines"]) for a in city)),
        "county": (len(county), sum(len(a["lines"]) for a in county)),
        "bad": (len(table), len(rows)),
    })
    print(f"wrote {len(city)} City, {len(county)} County and {len(table)} bad-roll accounts to {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
