"""Read-only admin of the quality app: changes go through the services (runs, tasks, schedules)."""

from django.contrib import admin

from citydata.accounts.admin import ReadOnlyAdmin
from citydata.quality.models import Finding, InspectionRun, InspectionSchedule, QualityScore, RectificationTask


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("dataset", "check_code", "severity", "status", "last_seen_at")
    list_filter = ("status", "severity", "family")


@admin.register(QualityScore)
class QualityScoreAdmin(ReadOnlyAdmin):
    list_display = ("kind", "dataset", "department", "day", "score")
    list_filter = ("kind",)


@admin.register(InspectionRun)
class InspectionRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "scope", "status", "created_at", "datasets_checked", "tasks_created")


@admin.register(InspectionSchedule)
class InspectionScheduleAdmin(ReadOnlyAdmin):
    list_display = ("name", "scope", "cadence", "enabled", "next_run_at")


@admin.register(RectificationTask)
class RectificationTaskAdmin(ReadOnlyAdmin):
    list_display = ("title", "department", "status", "deadline")
    list_filter = ("status", "source")
