"""The operators' working-day calendar page: a year's overrides (add, remove), its confirmation, and coverage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.errors import DomainError
from citydata.workdays import calendar, forms, queries, services
from citydata.workdays.models import CalendarOverride, CalendarYear


def _year_url(year: int) -> str:
    return f"{reverse('workdays:manage')}?year={year}"


def _page(request, *, year: int, status: int = 200, **forms_in_use):
    today = timezone.localdate()
    try_form = forms_in_use.get("try_form") or forms.TryForm(initial={"n": 5})
    context = {
        "year": year,
        "today": today,
        "coverage": queries.coverage(today),
        "by_library": calendar.library_covers(year),
        "overrides": queries.overrides_for_year(year),
        "confirmation": queries.year_confirmation(year),
        "library_days": queries.library_days(year),
        "year_form": forms_in_use.get("year_form") or forms.YearForm(initial={"year": year}),
        "form": forms_in_use.get("form") or forms.OverrideForm(),
        "confirm_form": forms_in_use.get("confirm_form") or forms.YearConfirmForm(initial={"year": year}),
        "try_form": try_form,
        "try_result": forms_in_use.get("try_result"),
    }
    errors = any(f.errors for f in (context["year_form"], context["form"], context["confirm_form"], try_form))
    return render(request, "workdays/manage.html", context, status=400 if errors else status)


@login_required
def manage_view(request):
    """Operators: see and edit one year's calendar (?year=), and try a count (?start=&n=)."""
    authz.authorize(request.user, "workdays.manage")
    today = timezone.localdate()
    year_form = forms.YearForm(request.GET)
    year = today.year
    if year_form.is_valid() and year_form.cleaned_data["year"]:
        year = year_form.cleaned_data["year"]
    extra: dict = {"year_form": year_form}
    if "start" in request.GET or "n" in request.GET:
        try_form = forms.TryForm(request.GET)
        extra["try_form"] = try_form
        if try_form.is_valid():
            start, n = try_form.cleaned_data["start"], try_form.cleaned_data["n"]
            try:
                extra["try_result"] = {"start": start, "n": n, "day": calendar.add_workdays(start, n)}
            except DomainError as exc:
                apply_domain_error(try_form, exc)
    if request.method == "POST":
        form = forms.OverrideForm(request.POST)
        extra["form"] = form
        if form.is_valid():
            data = form.cleaned_data
            year = data["date"].year
            try:
                services.calendar_override_add(
                    by=request.user, day=data["date"], kind=data["kind"], name=data["name"], note=data["note"]
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, _("已添加：%(date)s %(name)s。") % {"date": data["date"].isoformat(), "name": data["name"]}
                )
                return redirect(_year_url(year))
    return _page(request, year=year, **extra)


@login_required
@require_POST
def override_remove_view(request, pk: int):
    authz.authorize(request.user, "workdays.manage")
    override = get_object_or_404(CalendarOverride, pk=pk)
    services.calendar_override_remove(by=request.user, override=override)
    messages.success(
        request, _("已删除：%(date)s %(name)s。") % {"date": override.date.isoformat(), "name": override.name}
    )
    return redirect(_year_url(override.date.year))


@login_required
@require_POST
def year_confirm_view(request):
    authz.authorize(request.user, "workdays.manage")
    form = forms.YearConfirmForm(request.POST)
    if form.is_valid():
        year = form.cleaned_data["year"]
        try:
            services.calendar_year_confirm(by=request.user, year=year, note=form.cleaned_data["note"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("%(year)s 年的工作日历已确认，该年的期限从现在起可以计算。") % {"year": year})
            return redirect(_year_url(year))
        return _page(request, year=year, confirm_form=form)
    return _page(request, year=timezone.localdate().year, confirm_form=form)


@login_required
@require_POST
def year_reopen_view(request, year: int):
    authz.authorize(request.user, "workdays.manage")
    confirmation = get_object_or_404(CalendarYear, year=year)
    services.calendar_year_reopen(by=request.user, confirmation=confirmation)
    messages.success(request, _("已撤销 %(year)s 年的确认；该年的期限在重新确认前无法计算。") % {"year": year})
    return redirect(_year_url(year))
