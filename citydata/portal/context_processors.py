"""Values every page needs: the platform's name and filing numbers, the care mode, the user's landing page."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language

CARE_COOKIE = "citydata_care"


def platform(request):
    english = (get_language() or "").startswith("en")
    return {
        "platform_name": settings.PLATFORM_NAME_EN if english else settings.PLATFORM_NAME,
        "platform_organiser": settings.PLATFORM_ORGANISER_EN if english else settings.PLATFORM_ORGANISER,
        "platform_site_code": settings.PLATFORM_SITE_CODE,
        "platform_icp": settings.PLATFORM_ICP,
        "platform_psb": settings.PLATFORM_PSB,
        "care_mode": request.COOKIES.get(CARE_COOKIE) == "1",
    }


def notifications(request):
    """The signed-in user's unread message count for the header, counted only when a template asks."""
    from citydata.accounts.notify import unread_count

    user = getattr(request, "user", None)
    return {"unread_notifications": lambda: unread_count(user)}
