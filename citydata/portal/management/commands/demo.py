"""`citydata demo`: migrate and load the demo data (idempotent), then print the demo logins."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from citydata.access import demo as access_demo
from citydata.accounts import demo
from citydata.catalog import demo as catalog_demo
from citydata.datastore import demo as data_demo
from citydata.engagement import demo as engagement_demo
from citydata.quality import demo as quality_demo
from citydata.search import index as search_index
from citydata.search import signals as search_signals


class Command(BaseCommand):
    help = "Migrate the database and load the demo data. Safe to run again: it only adds what is missing."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")
        parser.add_argument(
            "--big-rows", type=int, default=data_demo.BIG_ROWS, help="Rows of the largest demo dataset (bus positions)."
        )

    def _calendar_ahead(self) -> None:
        """Deadlines set today may fall in next year. If its holidays are not in the calendar yet, the demo
        counts it as ordinary weeks, says so, and records why, so the demo works on any date; a real city
        enters the State Council's notice at /manage/workdays/ (applications refuse until it does)."""
        import datetime as dt

        from django.utils import timezone

        from citydata.workdays import calendar
        from citydata.workdays.models import CalendarYear

        today = timezone.localdate()
        year = today.year + 1
        if (today + dt.timedelta(days=31)).year == today.year:
            return  # the demo's deadlines (at most ten working days) stay in this year
        if calendar.library_covers(year) or CalendarYear.objects.filter(year=year).exists():
            return
        CalendarYear.objects.create(year=year, note="演示环境：尚未录入当年放假安排，暂按周一至周五计")
        self.stdout.write(
            self.style.WARNING(
                f"工作日历缺少 {year} 年放假安排，演示环境暂按周一至周五计；请在 /manage/workdays/ 录入后使用。"
                f" / the {year} holidays are not in the calendar: the demo counts ordinary weeks."
            )
        )

    def handle(self, *args, quiet_logins: bool = False, big_rows: int = data_demo.BIG_ROWS, **options):
        call_command("migrate", interactive=False, verbosity=0)
        created = demo.load()
        with search_signals.paused():  # one index build at the end, not a task per change
            self.stdout.write("正在生成演示数据目录… / loading the demo catalog…")
            catalog = catalog_demo.load()
            self.stdout.write("正在生成演示数据内容并入库… / ingesting the demo data…")
            catalog.update(data_demo.load(big_rows=big_rows))
            self._calendar_ahead()
            # Applications and grants, then feedback, then an inspection run that sees both.
            for app_demo in (access_demo, engagement_demo, quality_demo):
                catalog.update(app_demo.load())
        self.stdout.write("正在建立搜索索引… / building the search index…")
        search_index.reindex_all()
        summary = ", ".join(f"{k} +{v}" for k, v in {**created, **catalog}.items() if k != "departments")
        summary += f", departments +{created['departments'] + catalog['departments']}"
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪 / demo data ready ({summary})"))
        if quiet_logins:
            return
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"\n  网址 / URL: http://127.0.0.1:{port}/\n")
        self.stdout.write(f"  演示账号（密码均为 {demo.DEMO_PASSWORD}，可用邮箱或手机号登录）:")
        for spec in demo.DEMO_USERS:
            self.stdout.write(f"    {spec.role_label:<18} {spec.email:<28} {spec.mobile}  → {spec.landing}")
        self.stdout.write("")
