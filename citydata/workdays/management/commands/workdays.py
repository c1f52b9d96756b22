"""`citydata workdays add DATE N` and `citydata workdays between A B`: the deadline rules from the command line."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from citydata.workdays import calendar

WEEKDAYS = "一二三四五六日"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _date(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(
            f"日期“{text}”无效，应为 YYYY-MM-DD 格式的真实日期，例如 2026-09-30。"
            f" (invalid date {text!r}: expected YYYY-MM-DD)"
        ) from None


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise CommandError(f"工作日数“{text}”无效，应为不小于 0 的整数。 (invalid count {text!r}: expected 0 or more)")
    return n


class Command(BaseCommand):
    help = (
        "Working days on the Chinese calendar. `add DATE N`: the N-th working day after DATE (DATE itself never "
        "counts). `between A B`: working days after A up to and including B."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="the N-th working day after DATE")
        add.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
        add.add_argument("n", metavar="N", help="working days, 0 or more")
        between = sub.add_parser("between", help="working days after A up to and including B")
        between.add_argument("a", metavar="A", help="YYYY-MM-DD")
        between.add_argument("b", metavar="B", help="YYYY-MM-DD")

    def handle(self, *args, action: str, **options):
        try:
            if action == "add":
                self._add(_date(options["date"]), _count(options["n"]))
            else:
                self._between(_date(options["a"]), _date(options["b"]))
        except calendar.CalendarMissing as exc:
            raise CommandError(f"{exc.message} (no working-day calendar for {exc.year})") from None

    def _add(self, start: dt.date, n: int) -> None:
        day = calendar.add_workdays(start, n)
        self.stdout.write(
            f"{day.isoformat()}  {start.isoformat()} 之后第 {n} 个工作日，星期{WEEKDAYS[day.weekday()]}"
            f" (working day {n} after {start.isoformat()}, {WEEKDAYS_EN[day.weekday()]})"
        )

    def _between(self, a: dt.date, b: dt.date) -> None:
        count = calendar.workdays_between(a, b)
        self.stdout.write(
            f"{count}  {a.isoformat()} 之后至 {b.isoformat()}（含）的工作日数"
            f" (working days after {a.isoformat()} up to and including {b.isoformat()})"
        )
