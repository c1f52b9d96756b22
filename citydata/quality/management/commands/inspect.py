"""`citydata inspect`: run a data-quality inspection (巡查) now and print its report by department."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from citydata.accounts.models import Department
from citydata.catalog.models import Domain
from citydata.errors import DomainError
from citydata.quality import queries, services


class Command(BaseCommand):
    help = "Inspect the published datasets now (all, one department or one domain) and print the report."

    def add_arguments(self, parser):
        parser.add_argument("--department", default="", help="Only this department (code, e.g. JTJ).")
        parser.add_argument("--domain", default="", help="Only this domain (code, e.g. transport).")
        parser.add_argument("--no-tasks", action="store_true", help="Report findings without creating tasks.")

    def handle(self, *args, department: str = "", domain: str = "", no_tasks: bool = False, **options):
        if department and domain:
            raise CommandError("give --department or --domain, not both")
        dept = Department.objects.filter(code=department.upper()).first() if department else None
        if department and dept is None:
            raise CommandError(f"no department {department!r}")
        dom = Domain.objects.filter(code=domain).first() if domain else None
        if domain and dom is None:
            raise CommandError(f"no domain {domain!r}")
        scope = "department" if dept else "domain" if dom else "all"
        try:
            run = services.run_start(
                by=None, scope=scope, department=dept, domain=dom, create_tasks=not no_tasks, run_now=True
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        report = queries.run_json(run)
        self.stdout.write(
            f"run {run.pk}: {run.status}, {run.datasets_checked} datasets, "
            f"{report['findings']} findings, {run.tasks_created} tasks"
        )
        for row in report["by_department"]:
            self.stdout.write(
                f"  {row['department']:<8} high {row['high']:>4}  medium {row['medium']:>4}  "
                f"low {row['low']:>4}  tasks {row['tasks']:>4}  {row['name']}"
            )
        if run.error:
            self.stderr.write(run.error)
