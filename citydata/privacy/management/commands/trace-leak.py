"""`citydata trace-leak FILE [--dataset SLUG] [--json]`: which recipient's watermark a leaked export carries."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from citydata.privacy import watermark


def _p_text(log10_p: float) -> str:
    if log10_p <= -300:
        return "p < 1e-300"
    return f"p ≈ {10**log10_p:.1e}" if log10_p < -3 else f"p ≈ {10**log10_p:.3f}"


def _confidence(log10_p: float) -> str:
    if log10_p <= -6:
        return "> 99.9999%"
    return f"{(1 - 10**log10_p) * 100:.4f}%"


class Command(BaseCommand):
    help = (
        "Name the recipient whose watermark a leaked CSV/TSV/XLSX/Parquet/JSON/GeoJSON export carries, with a "
        "confidence, or say that it cannot be told. Candidates come from the registered sources "
        "(watermark.candidate_sources), for --dataset or for every dataset."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dataset", default=None, help="Only the recipients of this dataset (slug).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the report.")

    def handle(self, *args, file: str, dataset: str | None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(self._unreadable(path, watermark.UnreadableFile("missing")))
        candidates = watermark.candidates_for(dataset)
        if not candidates:
            raise CommandError(_("没有可比对的接收方：请用 --dataset 指定数据集，或先登记授权。"))
        try:
            verdict = watermark.detect(watermark.read_rows(path), candidates)
        except watermark.UnreadableFile as exc:
            raise CommandError(self._unreadable(path, exc)) from None
        if options["json"]:
            self.stdout.write(
                json.dumps({"file": path.name, "dataset": dataset, **verdict.as_json()}, ensure_ascii=False)
            )
        else:
            self._print(path, verdict, len(candidates))

    @staticmethod
    def _unreadable(path: Path, exc: watermark.UnreadableFile) -> str:
        if exc.code == "missing":
            return _("找不到文件：%(path)s") % {"path": path}
        if exc.code == "unsupported":
            return _("不支持的文件类型：%(suffix)s（支持 CSV、TSV、XLSX、Parquet、JSON、GeoJSON）") % {
                "suffix": exc.reason or path.name
            }
        if exc.code == "empty":
            return _("文件是空的：%(name)s") % {"name": path.name}
        return _("无法读取文件 %(name)s：%(reason)s") % {"name": path.name, "reason": exc.reason}

    def _print(self, path: Path, verdict: watermark.Verdict, candidates: int) -> None:
        write = self.stdout.write
        write(
            _("文件 %(name)s：读到 %(cells)s 个可能带水印的不同取值，比对 %(count)s 个接收方。")
            % {"name": path.name, "cells": f"{verdict.observations:,}", "count": candidates}
        )
        if verdict.outcome == "identified":
            best = verdict.scores[0]
            write(
                _("最可能的接收方：%(label)s，置信度 %(confidence)s（%(p)s，已按 %(count)s 个接收方校正）。")
                % {
                    "label": verdict.recipient,
                    "confidence": _confidence(verdict.log10_p),
                    "p": _p_text(verdict.log10_p),
                    "count": candidates,
                }
            )
            write(
                _("依据：%(trials)s 处水印中有 %(matches)s 处与其密钥一致，随机一致约 %(expected).1f 处。")
                % {"trials": f"{best.trials:,}", "matches": f"{best.matches:,}", "expected": best.expected}
            )
            if verdict.also:
                write(
                    _("以下接收方的水印也显著出现（可能是多人数据合并）：%(labels)s")
                    % {"labels": "、".join(verdict.also)}
                )
        elif verdict.outcome == "no_marks":
            write(_("无法判断：文件中没有找到水印（可能未加水印，或数值被取整、时间被截到秒、标点被统一）。"))
        elif verdict.outcome == "too_thin":
            best = verdict.scores[0]
            write(
                _("证据不足，无法判断。最接近的是 %(label)s：%(matches)s/%(trials)s 处一致，随机约 %(expected).1f 处。")
                % {
                    "label": best.label,
                    "matches": f"{best.matches:,}",
                    "trials": f"{best.trials:,}",
                    "expected": best.expected,
                }
            )
