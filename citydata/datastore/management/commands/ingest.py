"""`citydata ingest FILE --dataset SLUG`: load a data file as the dataset's next version, with progress."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, Progress, TextColumn

from citydata.catalog import services as catalog_services
from citydata.catalog.models import DatasetStatus
from citydata.datastore import ingest, services
from citydata.datastore.models import BadRowPolicy, DataVersion, VersionStatus
from citydata.errors import DomainError

PHASE_LABELS = {
    "checking": "检查文件 / checking",
    "inferring": "识别字段类型 / inferring types",
    "loading": "写入数据 / loading",
    "finishing": "保存版本 / storing",
    "done": "完成 / done",
}


class Command(BaseCommand):
    help = (
        "Ingest a CSV/TSV/XLSX/JSON/JSONL/GeoJSON file as the dataset's next data version. A new SLUG is created "
        "as a draft of --department. --publish makes the version current (and publishes a draft dataset when the "
        "open data standard allows it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dataset", required=True, help="Dataset slug.")
        parser.add_argument("--department", default="", help="Department code, when the dataset is to be created.")
        parser.add_argument("--title", default="", help="Title of a dataset created by this command.")
        parser.add_argument("--publish", action="store_true", help="Make the new version current when it is ready.")
        parser.add_argument("--bad-rows", default=BadRowPolicy.REJECT, choices=BadRowPolicy.values)

    def handle(self, *args, file: str, dataset: str, department: str, title: str, publish: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file} (file not found)")
        quiet = options.get("verbosity", 1) == 0
        try:
            target, created = services.dataset_for_ingest(
                by=None, slug=dataset, department_code=department, title=title
            )
            if created:
                self.stdout.write(f"已新建草稿数据集 {target.slug}（{target.department.name}）。 (draft created)")
            with path.open("rb") as stream:
                version = services.version_upload(
                    by=None,
                    dataset=target,
                    stream=stream,
                    filename=path.name,
                    bad_rows_policy=options["bad_rows"],
                    enqueue=False,
                )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        version = self._run_with_progress(version, quiet or not self.stdout.isatty())
        self._report(version)
        if version.status != VersionStatus.READY:
            raise CommandError(f"导入失败 (ingest failed): {version.error}")
        if publish:
            self._publish(version)

    def _run_with_progress(self, version: DataVersion, hidden: bool) -> DataVersion:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
        with Progress(*columns, disable=hidden) as bar:
            task = bar.add_task(PHASE_LABELS["checking"], total=100)

            def listener(phase: str, percent: int) -> None:
                bar.update(task, completed=percent, description=PHASE_LABELS.get(phase, phase))

            version = ingest.run(version.pk, listener=listener)
            bar.update(task, completed=100)
        return version

    def _report(self, version: DataVersion) -> None:
        self.stdout.write(
            f"版本 v{version.number}：{version.get_status_display()}，{version.row_count} 行，"
            f"错误行 {version.bad_row_count} 行，来源 {version.source_name}"
            f"（{version.source_format}，{version.source_encoding or '-'}，SHA-256 {version.source_sha256[:16]}…）"
            f" (v{version.number}: {version.status}, {version.row_count} rows, {version.bad_row_count} bad)"
        )
        for bad in version.bad_rows[:20]:
            unit = "第 {} 行".format(bad["line"]) if bad["unit"] == "line" else "第 {} 条记录".format(bad["line"])
            self.stdout.write(f"  {unit} {bad['column']}：{bad['reason']}")
        if version.bad_row_count > 20:
            self.stdout.write(f"  …… 共 {version.bad_row_count} 行有误")

    def _publish(self, version: DataVersion) -> None:
        try:
            services.version_publish(by=None, version=version)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(f"v{version.number} 已成为当前版本。 (now current)")
        dataset = version.dataset
        dataset.refresh_from_db()
        if dataset.status != DatasetStatus.PUBLISHED:
            try:
                catalog_services.dataset_publish(by=None, dataset=dataset)
            except DomainError as exc:
                self.stdout.write(f"数据集仍为草稿，暂不能发布：{exc.message} (dataset stays a draft)")
            else:
                self.stdout.write(f"数据集 {dataset.slug} 已发布。 (dataset published)")
