"""`citydata audit verify`: walk the hash chain and name the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from citydata.security import audit


class Command(BaseCommand):
    help = "Audit trail tools. `verify` checks the hash chain and names the first broken record."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action: str, **options):
        checked, broken = audit.verify()
        if broken is not None:
            raise CommandError(
                f"审计链在第 #{broken.seq} 条记录处断开：{broken.reason}。之前的 {checked} 条记录完好。"
                f" (audit chain broken at record #{broken.seq})"
            )
        self.stdout.write(
            self.style.SUCCESS(f"审计链完好：已校验 {checked} 条记录。 (audit chain intact: {checked} records)")
        )
