"""Turn a notice date, a profile and a sale into the dates the statute makes a notice print."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .model import Collector, Record


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it has no such day (Aug 31 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def statement_dates(collector: Collector, day: dt.date, record: Record) -> dict[str, Any]:
    """The dates a record's statement prints, by the template variable that prints each."""
    dates: dict[str, Any] = {"pay_by": day + dt.timedelta(days=collector.pay_within_days)}
    if record.sale is not None:
        # § 14-817.1(a)(6) and (8) count from the sale date; the notice prints the dates, not only the periods.
        sold = record.sale.sale_date
        dates.update(fees_after=months_after(sold, 4), foreclose_from=months_after(sold, 6),
                     foreclose_repair_from=sold + dt.timedelta(days=60))
    return dates
