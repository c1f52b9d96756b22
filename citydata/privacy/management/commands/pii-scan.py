"""`citydata pii-scan FILE [--json]`: the personal data in a CSV, TSV, Excel or Parquet file, read locally."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import duckdb
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from citydata.errors import DomainError
from citydata.privacy import detectors, scan


def _label(code: str) -> str:
    detector = detectors.REGISTRY.get(code)
    return str(detector.label) if detector else code


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


class Command(BaseCommand):
    help = (
        "Find personal data (resident IDs, phones, bank cards, names, addresses…) in a CSV/TSV/XLSX/Parquet file "
        "without uploading it: each column's types with share and confidence, and every finding in free-text "
        "cells, masked. --json prints one object {columns, cells}."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the report.")
        parser.add_argument(
            "--sample-rows",
            type=int,
            default=scan.DEFAULT_SAMPLE_ROWS,
            help="Rows a column is classified from (default %(default)s); every row is scanned for free text.",
        )
        parser.add_argument("--examples", type=int, default=3, help="Masked examples shown per type.")

    def handle(self, *args, file: str, sample_rows: int, examples: int, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": file})
        try:
            report = scan.scan_table(path, sample_rows=max(sample_rows, 1))
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        except (duckdb.Error, OSError, UnicodeError, ValueError) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise CommandError(_("无法读取文件 %(name)s：%(reason)s") % {"name": path.name, "reason": reason}) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))
            return
        self._print(path, report, max(examples, 0))

    def _print(self, path: Path, report: scan.ScanReport, examples: int) -> None:
        write = self.stdout.write
        write(
            _("文件 %(name)s：%(rows)s 行，%(columns)s 列；列分类依据 %(sample)s 行样本，自由文本逐行扫描。")
            % {
                "name": path.name,
                "rows": f"{report.rows:,}",
                "columns": len(report.columns),
                "sample": f"{report.sample_rows:,}",
            }
        )
        write(_("（行号与字符位置均从 0 起算，行号不含表头。）"))
        write(_("各列识别结果："))
        for column in report.columns:
            if column.types:
                parts = [
                    _("%(label)s %(share)s（置信度 %(confidence).2f）%(examples)s")
                    % {
                        "label": _label(t.type),
                        "share": _percent(t.share),
                        "confidence": t.confidence,
                        "examples": self._examples(t, examples),
                    }
                    for t in column.types
                ]
                write(f"  {column.name}：" + "；".join(parts))
            elif column.text_types:
                parts = [
                    _("%(label)s 出现在 %(share)s 的单元格（%(count)s 处，置信度 %(confidence).2f）")
                    % {
                        "label": _label(t.type),
                        "share": _percent(t.share),
                        "count": t.matches,
                        "confidence": t.confidence,
                    }
                    for t in column.text_types
                ]
                write(f"  {column.name}" + _("（自由文本）：") + "；".join(parts))
            else:
                write(f"  {column.name}：" + _("未发现个人信息"))
        if not report.cells:
            write(_("自由文本单元格中未发现个人信息。"))
            return
        write(_("自由文本单元格中的个人信息：共 %(count)s 处") % {"count": f"{len(report.cells):,}"})
        by_type: dict[str, list[scan.CellFinding]] = defaultdict(list)
        for finding in report.cells:
            by_type[finding.type].append(finding)
        for code, findings in sorted(by_type.items(), key=lambda kv: -len(kv[1])):
            shown = "；".join(
                _("第 %(row)s 行“%(column)s”第 %(start)s–%(end)s 字 %(masked)s")
                % {"row": f.row, "column": f.column, "start": f.start, "end": f.end, "masked": f.masked}
                for f in findings[:examples]
            )
            write(
                _("  %(label)s：%(count)s 处") % {"label": _label(code), "count": f"{len(findings):,}"}
                + (_("，例：") + shown if shown else "")
            )

    @staticmethod
    def _examples(score: scan.TypeScore, limit: int) -> str:
        if not score.examples or not limit:
            return ""
        shown = "、".join(
            _("第 %(row)s 行 %(masked)s") % {"row": e.row, "masked": e.masked} for e in score.examples[:limit]
        )
        return _("，例：") + shown
