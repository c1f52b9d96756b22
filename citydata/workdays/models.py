"""The project-owned part of the working-day calendar: dated overrides operators enter from the State Council
notice (or for a city's own extra holidays), and per-year confirmations that a year's entries are complete."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假（休息日）")
    WORKDAY = "workday", _("调休上班（工作日）")


class CalendarOverride(models.Model):
    """One date whose status is set by an operator; it wins over the calendar library and over the plain week."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=40, help_text=_("例如：春节、国庆节、本市防汛停工"))
    note = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工作日历调整")
        verbose_name_plural = _("工作日历调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}"

    @property
    def is_workday(self) -> bool:
        return self.kind == DayKind.WORKDAY


class CalendarYear(models.Model):
    """An operator's confirmation that a year's holidays and make-up days are all entered: the year is covered."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    note = models.CharField(_("依据"), max_length=200, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)

    class Meta:
        verbose_name = _("已确认的日历年份")
        verbose_name_plural = _("已确认的日历年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
