from django.urls import path

from citydata.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("care/", views.care_mode, name="care"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    # Section sitemaps sit at the root: a sitemap may only list addresses under its own folder.
    path("sitemap-pages.xml", views.sitemap_pages, name="sitemap_pages"),
    path("sitemap-departments-<int:page>.xml", views.sitemap_departments, name="sitemap_departments"),
    path("sitemap-datasets-<int:page>.xml", views.sitemap_datasets, name="sitemap_datasets"),
]
