"""Operators' search page (the synonym table, what people searched for and what they opened), the suggestions
under the search box, and the redirect that counts clicks on results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.errors import DomainError
from citydata.search import queries, services
from citydata.search.models import Synonym


@login_required
def manage_view(request):
    authz.authorize(request.user, "console.view")
    errors: dict[str, str] = {}
    typed = {"terms": "", "active": True}
    if request.method == "POST":
        typed = {"terms": request.POST.get("terms", "")[:400], "active": bool(request.POST.get("active"))}
        try:
            services.synonym_save(by=request.user, terms=typed["terms"], active=typed["active"])
        except DomainError as exc:
            errors["new"] = str(exc.message)
        else:
            messages.success(request, _("同义词已添加，搜索立即使用。"))
            return redirect("search:manage")
    return _page(request, errors=errors, typed=typed)


def _page(request, *, errors: dict[str, str], typed: dict, edited: dict | None = None):
    return render(
        request,
        "search/manage.html",
        {
            "synonyms": Synonym.objects.order_by("id"),
            "report": queries.query_report(),
            "errors": errors,
            "typed": typed,
            "edited": edited or {},
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def synonym_edit_view(request, pk: int):
    authz.authorize(request.user, "console.view")
    synonym = get_object_or_404(Synonym, pk=pk)
    if request.POST.get("delete"):
        services.synonym_delete(by=request.user, synonym=synonym)
        messages.success(request, _("同义词已删除。"))
        return redirect("search:manage")
    terms, active = request.POST.get("terms", "")[:400], bool(request.POST.get("active"))
    try:
        services.synonym_save(by=request.user, synonym=synonym, terms=terms, active=active)
    except DomainError as exc:
        return _page(request, errors={str(pk): str(exc.message)}, typed={"terms": "", "active": True},
                     edited={pk: terms})  # fmt: skip
    messages.success(request, _("同义词已保存，搜索立即使用。"))
    return redirect("search:manage")


def suggest_view(request):
    """Suggestions as the visitor types (htmx fills the list under the search box): the best matching
    titles, marked, each a link to its page (a rule of the standard says what it is). Works for pinyin and
    initials too."""
    from citydata.search import engine

    text = (request.GET.get("q") or "").strip()[:100]
    results = engine.search(text) if text else None
    hits = results.hits[:8] if results else []
    return render(
        request,
        "search/suggest.html",
        {"hits": hits, "groups": results.groups if results else [], "query": text},
    )


@never_cache
def click_view(request):
    """A search result's link: count the click (signed: result, position, search) and go to the result. Plain
    links, so it works without JavaScript; the target is always a page of this site built from the result's kind
    and slug (a dataset page, a rule's anchor on the standard page), never an address from the URL."""
    click = services.click_record(token=(request.GET.get("t") or "")[:500])
    return redirect(click.url)
