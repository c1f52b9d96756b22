"""`citydata ingest FILE --dataset SLUG`: load a data file as the dataset's next version, with progress; with
`--publish` make it current, through the same personal-data gate as the web (`--override-reason` lets a blocked
version through, audited like an operator's override on the web)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.progress import BarColumn, Progress, TextColumn

from citydata.catalog import services as catalog_services
from citydata.catalog.models import DatasetStatus
from citydata.datastore import ingest, services
from citydata.datastore.models import BadRowPolicy, DataVersion, VersionStatus
from citydata.errors import DomainError
from citydata.privacy import detectors
from citydata.privacy import services as privacy

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
        "open data standard allows it), unless the personal-data gate stops it: then the version stays an "
        "unpublished draft and the command exits non-zero; --override-reason lets it through, audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dataset", required=True, help="Dataset slug.")
        parser.add_argument("--department", default="", help="Department code, when the dataset is to be created.")
        parser.add_argument("--title", default="", help="Title of a dataset created by this command.")
        parser.add_argument("--publish", action="store_true", help="Make the new version current when it is ready.")
        parser.add_argument("--bad-rows", default=BadRowPolicy.REJECT, choices=BadRowPolicy.values)
        parser.add_argument(
            "--override-reason",
            default="",
            help=(
                "With --publish: publish even if the personal-data gate blocks the version (unmasked personal data "
                "in an open or conditional dataset, or k-anonymity below the threshold). A written reason of at "
                f"least {privacy.OVERRIDE_REASON_MIN} characters, kept in the audit log."
            ),
        )

    def handle(
        self,
        *args,
        file: str,
        dataset: str,
        department: str,
        title: str,
        publish: bool,
        override_reason: str,
        **options,
    ):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file} (file not found)")
        override_reason = override_reason.strip()
        if override_reason and not publish:
            raise CommandError(_("--override-reason 只能与 --publish 一起使用。"))
        if override_reason and len(override_reason) < privacy.OVERRIDE_REASON_MIN:
            raise CommandError(
                _("放行理由至少 %(n)s 个字，例如数据已在源头脱敏、所列值为机构信息等。")
                % {"n": privacy.OVERRIDE_REASON_MIN}
            )
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
            self._publish(version, override_reason)

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

    def _publish(self, version: DataVersion, override_reason: str) -> None:
        try:
            if override_reason and privacy.gate_for(version).blocked:
                privacy.gate_override(by=None, version=version, reason=override_reason)
                self.stdout.write(_("已按所填理由放行第 %(n)s 版，并记入审计日志。") % {"n": version.number})
            # a person runs this command: the gate applies as on the web, though there is no user account
            services.version_publish(by=None, version=version, enforce_privacy_gate=True)
        except privacy.PublicationBlocked as exc:
            raise CommandError(_blocked_message(version, exc.details)) from None
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


def _blocked_message(version: DataVersion, details: dict) -> str:
    """Why the gate stopped the version, column by column (types only, never a value), and the two ways on."""
    lines = [
        _("第 %(n)s 版未发布：数据集为开放或有条件开放，而该版本未通过个人信息检查。该版本保留为未发布的草稿。")
        % {"n": version.number}
    ]
    by_column: dict[str, list[str]] = {}
    for finding in details.get("blocking", []):
        detector = detectors.REGISTRY.get(finding["type"])
        label = str(detector.label) if detector else finding["type"]
        if finding.get("in_text"):
            label = _("%(label)s（文本中）") % {"label": label}
        by_column.setdefault(finding["column"], []).append(label)
    if by_column:
        lines.append(_("含未脱敏个人信息的字段："))
        lines += [f"  - {column}：{'、'.join(dict.fromkeys(labels))}" for column, labels in by_column.items()]
    if details.get("risk"):
        lines.append(_("重识别风险：k 匿名低于 %(k)s。") % {"k": settings.PRIVACY_MIN_K})
    lines.append(_("处理办法（任选其一）："))
    lines.append(
        _(
            "  1. 在隐私检查页 %(url)s 执行建议的脱敏方案后发布该版本；方案会成为本数据集的脱敏方案，"
            "以后导入时自动执行。"
        )
        % {"url": details.get("url", "")}
    )
    lines.append(
        _(
            "  2. 如确认这些值可以公开（例如已在源头脱敏、所列值为机构信息），重新运行本命令（导入为新的版本）并加上 "
            '--override-reason "放行理由"（至少 %(n)s 个字），放行将记入审计日志。'
        )
        % {"n": privacy.OVERRIDE_REASON_MIN}
    )
    return "\n".join(lines)
