"""`citydata import-catalog FILE --format ckan|dcat|csv`: import another platform's catalog as drafts."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from citydata.catalog import importers
from citydata.search import signals as search_signals


class Command(BaseCommand):
    help = "Import CKAN API output, a DCAT JSON-LD catalog or the CSV template as draft datasets (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", required=True, choices=sorted(importers.PARSERS))
        parser.add_argument("--department", default="", help="Department code for every record (else matched by name).")
        parser.add_argument(
            "--default-domain", default="government", help="Domain code when a record names none we know."
        )

    def handle(self, *args, file: str, format: str, department: str, default_domain: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        try:
            records = list(importers.read(path.read_bytes(), format))
            importer = importers.Importer(source=format, department_code=department, default_domain=default_domain)
        except importers.ImportFileError as exc:
            raise CommandError(f"无法导入 {path.name}：{exc}") from None
        with Progress(disable=options.get("verbosity", 1) == 0 or not self.stdout.isatty()) as progress:
            task = progress.add_task("导入中 / importing", total=len(records))
            with search_signals.paused():  # imports are drafts: nothing to index until they are published
                for record in records:
                    importer.load(record)
                    progress.advance(task)
        report = importer.report
        self.stdout.write(
            f"新建 {report.created} 个草稿数据集，已存在 {report.existing} 个，跳过 {len(report.skipped)} 个。"
            f" (created {report.created}, already there {report.existing}, skipped {len(report.skipped)})"
        )
        for label, reason in report.skipped[:200]:
            self.stdout.write(f"  跳过 {label}：{reason}")
