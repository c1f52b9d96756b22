"""Pages of conditional opening: being written; until then each answers 404."""

from django.http import Http404


def mine_view(request, *args, **kwargs):
    raise Http404


def apply_view(request, *args, **kwargs):
    raise Http404


def application_view(request, *args, **kwargs):
    raise Http404


def edit_view(request, *args, **kwargs):
    raise Http404


def act_view(request, *args, **kwargs):
    raise Http404


def attachment_upload_view(request, *args, **kwargs):
    raise Http404


def attachment_view(request, *args, **kwargs):
    raise Http404


def agreement_view(request, *args, **kwargs):
    raise Http404


def panel_new_view(request, *args, **kwargs):
    raise Http404


def panel_view(request, *args, **kwargs):
    raise Http404


def grant_view(request, *args, **kwargs):
    raise Http404


def grant_act_view(request, *args, **kwargs):
    raise Http404


def queue_view(request, *args, **kwargs):
    raise Http404


def sla_view(request, *args, **kwargs):
    raise Http404


def templates_view(request, *args, **kwargs):
    raise Http404


def standing_view(request, *args, **kwargs):
    raise Http404
