"""URL map: public pages, account pages, the auditor's pages, the API under /api/v1 and the admin."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from citydata.api import api

# The admin signs in through the platform's own login, so lockout and auditing apply there too.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = "CityData"

handler400 = "citydata.portal.views.error_400"
handler403 = "citydata.portal.views.error_403"
handler404 = "citydata.portal.views.error_404"
handler500 = "citydata.portal.views.error_500"

urlpatterns = [
    # First: every data call is resolved before the hundreds of page patterns are tried.
    path("api/v1/", api.urls),
    path("", include("citydata.portal.urls")),
    path("", include("citydata.accounts.urls")),
    path("", include("citydata.catalog.urls")),
    path("", include("citydata.datastore.urls")),
    path("", include("citydata.search.urls")),
    path("", include("citydata.workdays.urls")),
    path("", include("citydata.access.urls")),
    path("", include("citydata.quality.urls")),
    path("", include("citydata.engagement.urls")),
    path("", include("citydata.privacy.urls")),
    path("security/", include("citydata.security.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
