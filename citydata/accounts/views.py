"""Account pages: login, registration, password reset, the user centre, organisations and role landings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz, forms, queries, services
from citydata.accounts.backends import find_user
from citydata.accounts.models import (
    ApiKey,
    CodePurpose,
    Department,
    DepartmentDuty,
    Membership,
    Notification,
    Organisation,
    RoleAssignment,
    Stage,
)
from citydata.errors import DomainError, Forbidden
from citydata.paging import paginate_desc

LANDINGS = {
    authz.OPERATOR: "accounts:console",
    authz.AUDITOR: "security:audit",
    authz.PROVIDER: "accounts:workspace",
    authz.EXPERT: "accounts:expert",
}


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def login_view(request):
    form = forms.LoginForm(request.POST or None)
    locked_message = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_login(
                request=request, identifier=form.cleaned_data["identifier"], password=form.cleaned_data["password"]
            )
        except services.LoginLocked as exc:
            locked_message = str(exc.message)
        except DomainError as exc:
            forms.apply_domain_error(form, exc)
        else:
            login(request, user)
            return HttpResponseRedirect(_next_url(request, reverse("accounts:landing")))
    status = 429 if locked_message else (400 if request.method == "POST" else 200)
    return render(
        request,
        "accounts/login.html",
        {"form": form, "locked_message": locked_message, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect("portal:home")


def _code_step(request, *, purpose: str, session_key: str, next_view: str, template: str):
    form = forms.CodeRequestForm(request.POST or None, initial={"identifier": request.session.get(session_key, "")})
    if request.method == "POST" and form.is_valid():
        try:
            target = services.code_send(
                identifier=form.cleaned_data["identifier"], purpose=purpose, ip=getattr(request, "client_ip", None)
            )
        except DomainError as exc:
            form.add_error("identifier", str(exc.message))
        else:
            request.session[session_key] = target
            messages.success(request, _("验证码已发送至 %(target)s，请查收。") % {"target": target})
            return redirect(next_view)
    return render(request, template, {"form": form}, status=400 if form.errors else 200)


def register_view(request):
    if request.user.is_authenticated:
        return redirect("accounts:centre")
    return _code_step(
        request,
        purpose=CodePurpose.REGISTER,
        session_key="register_target",
        next_view="accounts:register_verify",
        template="accounts/register.html",
    )


def register_verify_view(request):
    target = request.session.get("register_target")
    if not target:
        return redirect("accounts:register")
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                identifier=target,
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
            )
        except DomainError as exc:
            forms.apply_domain_error(form, exc)
        else:
            request.session.pop("register_target", None)
            login(request, user, backend="citydata.accounts.backends.MobileOrEmailBackend")
            messages.success(request, _("注册成功，欢迎使用！"))
            return redirect("accounts:centre")
    return render(
        request, "accounts/register_verify.html", {"form": form, "target": target}, status=400 if form.errors else 200
    )


def password_reset_view(request):
    return _code_step(
        request,
        purpose=CodePurpose.RESET,
        session_key="reset_target",
        next_view="accounts:password_reset_confirm",
        template="accounts/password_reset.html",
    )


def password_reset_confirm_view(request):
    target = request.session.get("reset_target")
    if not target:
        return redirect("accounts:password_reset")
    form = forms.PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset(
                identifier=target, code=form.cleaned_data["code"], password=form.cleaned_data["password"]
            )
        except DomainError as exc:
            forms.apply_domain_error(form, exc)
        else:
            request.session.pop("reset_target", None)
            messages.success(request, _("密码已重设，请用新密码登录。"))
            return redirect("accounts:login")
    return render(
        request,
        "accounts/password_reset_confirm.html",
        {"form": form, "target": target},
        status=400 if form.errors else 200,
    )


@login_required
def landing_view(request):
    """Send each role where its work is."""
    return redirect(LANDINGS.get(authz.primary_role(request.user), "accounts:centre"))


def _centre_context(request, **forms_in_use):
    page = paginate_desc(
        queries.api_keys_of(request.user),
        key="id",
        cursor=request.GET.get("keys_cursor"),
        limit=request.GET.get("limit"),
    )
    context = {
        "summary": queries.user_summary(request.user),
        "api_keys": page.items,
        "keys_next": page.next_cursor,
        "profile_form": forms.ProfileForm(initial={"display_name": request.user.display_name}),
        "realname_form": forms.RealNameForm(),
        "password_form": forms.PasswordChangeForm(),
        "apikey_form": forms.ApiKeyForm(),
        "organisation_form": forms.OrganisationForm(),
    }
    context.update(forms_in_use)
    return context


@login_required
def centre_view(request):
    return render(request, "accounts/centre.html", _centre_context(request))


def _centre_post(request, form_name: str, form, action) -> HttpResponseRedirect | None:
    if form.is_valid():
        try:
            message = action(form.cleaned_data)
        except DomainError as exc:
            forms.apply_domain_error(form, exc)
        else:
            messages.success(request, message)
            return None
    return render(request, "accounts/centre.html", _centre_context(request, **{form_name: form}), status=400)


@login_required
@require_POST
def profile_update_view(request):
    def act(data):
        services.user_update_profile(user=request.user, by=request.user, display_name=data["display_name"])
        return _("资料已保存。")

    return _centre_post(request, "profile_form", forms.ProfileForm(request.POST), act) or redirect("accounts:centre")


@login_required
@require_POST
def real_name_view(request):
    def act(data):
        services.user_set_real_name(
            user=request.user, by=request.user, real_name=data["real_name"], resident_id=data["resident_id"]
        )
        return _("实名信息已登记。")

    return _centre_post(request, "realname_form", forms.RealNameForm(request.POST), act) or redirect("accounts:centre")


@login_required
@require_POST
def password_change_view(request):
    def act(data):
        services.password_change(
            user=request.user, by=request.user, old_password=data["old_password"], new_password=data["password"]
        )
        return _("密码已修改。")

    response = _centre_post(request, "password_form", forms.PasswordChangeForm(request.POST), act)
    if response is None:
        login(request, request.user, backend="citydata.accounts.backends.MobileOrEmailBackend")
        return redirect("accounts:centre")
    return response


@login_required
@require_POST
def apikey_create_view(request):
    form = forms.ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, secret = services.apikey_create(by=request.user, name=form.cleaned_data["name"])
        except DomainError as exc:
            forms.apply_domain_error(form, exc)
        else:
            # The secret is shown in this response only; it is not stored anywhere it could be shown again.
            return render(request, "accounts/apikey_created.html", {"key": key, "secret": secret}, status=201)
    return render(request, "accounts/centre.html", _centre_context(request, apikey_form=form), status=400)


@login_required
@require_POST
def apikey_revoke_view(request, prefix: str):
    key = get_object_or_404(ApiKey, prefix=prefix, user=request.user)
    services.apikey_revoke(by=request.user, key=key)
    messages.success(request, _("密钥 %(name)s 已撤销，使用它的请求将被拒绝。") % {"name": key.name})
    return redirect("accounts:centre")


@login_required
@require_POST
def organisation_create_view(request):
    form = forms.OrganisationForm(request.POST)
    if form.is_valid():
        try:
            organisation = services.organisation_create(
                by=request.user,
                name=form.cleaned_data["name"],
                uscc=form.cleaned_data["uscc"],
                type=form.cleaned_data["type"],
            )
        except DomainError as exc:
            forms.apply_domain_error(form, exc)
        else:
            messages.success(request, _("组织已创建，您是该组织的管理员。"))
            return redirect("accounts:organisation", pk=organisation.pk)
    return render(request, "accounts/centre.html", _centre_context(request, organisation_form=form), status=400)


@login_required
def organisation_view(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    is_member = organisation.memberships.filter(user=request.user).exists()
    if not (is_member or authz.has_role(request.user, authz.OPERATOR)):
        raise Forbidden(_("只有该组织的成员可以查看此页面。"))
    can_manage = authz.can(request.user, "organisation.manage", organisation)
    form = forms.MemberAddForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.organisation_add_member(
                    organisation=organisation,
                    by=request.user,
                    identifier=form.cleaned_data["identifier"],
                    is_admin=form.cleaned_data["is_admin"],
                )
            except DomainError as exc:
                if exc.status == 403:
                    raise
                forms.apply_domain_error(form, exc)
            else:
                messages.success(request, _("成员已加入。"))
                return redirect("accounts:organisation", pk=pk)
        status = 400
    members = organisation.memberships.select_related("user").order_by("-is_admin", "joined_at")
    return render(
        request,
        "accounts/organisation.html",
        {"organisation": organisation, "members": members, "form": form, "can_manage": can_manage},
        status=status,
    )


@login_required
def workspace_view(request):
    """A provider's department workspace: their departments and who holds which duty."""
    authz.authorize(request.user, "department.workspace")
    departments = (
        Department.objects.filter(pk__in=authz.department_ids(request.user))
        .prefetch_related(Prefetch("duties", queryset=DepartmentDuty.objects.select_related("user").order_by("stage")))
        .order_by("code")
    )
    return render(request, "accounts/workspace.html", {"departments": departments, "stages": Stage.choices})


def _grant_role(request, form, *, role: str | None = None, department: Department | None = None) -> bool:
    """Grant a role from a form naming the user; puts a refusal on the form. Returns True when granted."""
    if not form.is_valid():
        return False
    person = find_user(form.cleaned_data["identifier"])
    if person is None:
        form.add_error("identifier", _("没有找到该手机号或邮箱对应的用户，请先请对方注册。"))
        return False
    try:
        services.role_grant(by=request.user, user=person, role=role or form.cleaned_data["role"], department=department)
    except DomainError as exc:
        forms.apply_domain_error(form, exc)
        return False
    messages.success(request, _("已为 %(user)s 授予角色。") % {"user": person})
    return True


@login_required
def console_view(request):
    """The operator's console: duty coverage of every department, and who holds the platform-wide roles."""
    authz.authorize(request.user, "console.view")
    posted = request.POST.get("form")
    role_form = forms.RoleGrantForm(request.POST if posted == "role" else None)
    department_form = forms.DepartmentForm(request.POST if posted == "department" else None)
    if request.method == "POST":
        if posted == "department":
            authz.authorize(request.user, "department.manage")
            if department_form.is_valid():
                try:
                    created = services.department_create(
                        by=request.user,
                        code=department_form.cleaned_data["code"],
                        name=department_form.cleaned_data["name"],
                        parent=department_form.cleaned_data["parent"],
                    )
                except DomainError as exc:
                    forms.apply_domain_error(department_form, exc)
                else:
                    messages.success(request, _("部门 %(name)s 已创建。") % {"name": created.name})
                    return redirect("accounts:department", code=created.code)
        else:
            authz.authorize(request.user, "role.assign")
            if _grant_role(request, role_form):
                return redirect("accounts:console")
    departments = list(
        Department.objects.filter(is_active=True)
        .prefetch_related(Prefetch("duties", queryset=DepartmentDuty.objects.select_related("user")))
        .annotate(staff_count=Count("staff", distinct=True))
        .order_by("code")
    )
    rows = []
    for department in departments:
        by_stage = {}
        for duty in department.duties.all():
            by_stage.setdefault(duty.stage, []).append(duty.user)
        missing = [label for value, label in Stage.choices if value not in by_stage]
        rows.append({"department": department, "by_stage": by_stage, "missing": missing})
    covered = sum(1 for row in rows if not row["missing"])
    holders = (
        RoleAssignment.objects.filter(department__isnull=True).select_related("user").order_by("role", "granted_at")
    )
    return render(
        request,
        "accounts/console.html",
        {
            "rows": rows,
            "stages": Stage.choices,
            "covered": covered,
            "total": len(rows),
            "holders": holders,
            "role_form": role_form,
            "department_form": department_form,
        },
        status=400 if (role_form.errors or department_form.errors) else 200,
    )


@login_required
@require_POST
def role_revoke_view(request, pk: int):
    assignment = get_object_or_404(RoleAssignment.objects.select_related("user", "department"), pk=pk)
    services.role_revoke(by=request.user, assignment=assignment)
    messages.success(request, _("已撤销 %(user)s 的角色。") % {"user": assignment.user})
    if assignment.department_id:
        return redirect("accounts:department", code=assignment.department.code)
    return redirect("accounts:console")


@login_required
def department_view(request, code: str):
    department = get_object_or_404(Department, code=code)
    authz.authorize(request.user, "department.workspace", department)
    can_manage = authz.can(request.user, "department.manage")
    duty_form = forms.DutyForm(request.POST if request.POST.get("form") == "duty" else None)
    staff_form = forms.StaffAddForm(request.POST if request.POST.get("form") == "staff" else None)
    if request.method == "POST":
        authz.authorize(request.user, "department.manage")
        if request.POST.get("form") == "staff":
            if _grant_role(request, staff_form, role=authz.PROVIDER, department=department):
                return redirect("accounts:department", code=code)
        elif duty_form.is_valid():
            staff = find_user(duty_form.cleaned_data["identifier"])
            if staff is None:
                duty_form.add_error("identifier", _("没有找到该手机号或邮箱对应的用户。"))
            else:
                try:
                    services.duty_assign(
                        by=request.user,
                        department=department,
                        stage=duty_form.cleaned_data["stage"],
                        user=staff,
                        phone=duty_form.cleaned_data["phone"],
                    )
                except DomainError as exc:
                    forms.apply_domain_error(duty_form, exc)
                else:
                    messages.success(request, _("已指定岗位负责人。"))
                    return redirect("accounts:department", code=code)
    duties = department.duties.select_related("user").order_by("stage", "since")
    staff = department.staff.filter(role=authz.PROVIDER).select_related("user").order_by("granted_at")
    return render(
        request,
        "accounts/department.html",
        {
            "department": department,
            "duties": duties,
            "staff": staff,
            "duty_form": duty_form,
            "staff_form": staff_form,
            "can_manage": can_manage,
        },
        status=400 if (duty_form.errors or staff_form.errors) else 200,
    )


@login_required
@require_POST
def duty_remove_view(request, pk: int):
    duty = get_object_or_404(DepartmentDuty.objects.select_related("department", "user"), pk=pk)
    services.duty_remove(by=request.user, duty=duty)
    messages.success(
        request, _("已解除 %(user)s 的%(stage)s岗位。") % {"user": duty.user, "stage": duty.get_stage_display()}
    )
    return redirect("accounts:department", code=duty.department.code)


@login_required
@require_POST
def membership_update_view(request, pk: int):
    membership = get_object_or_404(Membership.objects.select_related("organisation", "user"), pk=pk)
    action = request.POST.get("action")
    if action == "remove":
        services.organisation_remove_member(by=request.user, membership=membership)
        messages.success(request, _("已将 %(user)s 移出组织。") % {"user": membership.user})
    elif action in {"make_admin", "drop_admin"}:
        services.organisation_set_admin(by=request.user, membership=membership, is_admin=action == "make_admin")
        messages.success(request, _("已更新 %(user)s 的身份。") % {"user": membership.user})
    else:
        raise DomainError(_("未知的操作。"), code="unknown_action")
    if not membership.organisation.memberships.filter(user=request.user).exists():
        return redirect("accounts:centre")
    return redirect("accounts:organisation", pk=membership.organisation_id)


@login_required
def expert_view(request):
    authz.authorize(request.user, "expert.view")
    from citydata.access.queries import open_panels_for  # access builds on accounts, not the other way

    return render(request, "accounts/expert.html", {"panels": open_panels_for(request.user)})


@login_required
def notifications_view(request):
    """The user's in-app messages, newest first; opening the page marks the shown ones read."""
    mine = Notification.objects.filter(user=request.user)
    page = paginate_desc(mine, key="id", cursor=request.GET.get("cursor"), limit=30)
    unread = [n.pk for n in page.items if n.read_at is None]
    if unread:
        Notification.objects.filter(pk__in=unread).update(read_at=timezone.now())
    return render(request, "accounts/notifications.html", {"page": page, "unread": set(unread)})
