from django.urls import path

from citydata.catalog import manage_views, views

app_name = "catalog"

urlpatterns = [
    path("datasets/", views.dataset_list, name="dataset_list"),
    path("datasets/<str:slug>/", views.dataset_detail, name="dataset_detail"),
    path("departments/<str:code>/", views.department_detail, name="department_detail"),
    path("departments/<str:code>/classification/", views.department_rules, name="department_rules"),
    path("standards/", views.standard_page, name="standard"),
    path("progress/", views.progress_page, name="progress"),
    path(
        "manage/departments/<str:code>/classification/",
        manage_views.classification_rules_view,
        name="manage_classification_rules",
    ),
    path("manage/departments/<str:code>/import/", manage_views.bulk_import_view, name="manage_bulk_import"),
    path("manage/import/templates/<str:kind>.<str:ext>", manage_views.bulk_template_view, name="manage_bulk_template"),
    path("manage/standards/", manage_views.standard_rules_view, name="manage_standard"),
    path("manage/standards/<str:code>/", manage_views.standard_rule_edit_view, name="manage_standard_rule"),
    path("manage/progress/targets/", manage_views.targets_view, name="manage_targets"),
    path("manage/catalog/", manage_views.coverage_view, name="manage_coverage"),
    path("manage/open-lists/", manage_views.open_list_queue_view, name="manage_open_lists"),
    path("manage/open-lists/<int:pk>/", manage_views.open_list_review_view, name="manage_open_list"),
    path(
        "manage/departments/<str:code>/open-list/submit/",
        manage_views.open_list_submit_view,
        name="manage_open_list_submit",
    ),
    path("manage/departments/<str:code>/inventory/", manage_views.inventory_view, name="manage_inventory"),
    path("manage/inventory/<int:pk>/", manage_views.inventory_entry_view, name="manage_inventory_entry"),
    path("manage/inventory/<int:pk>/delete/", manage_views.inventory_entry_delete_view, name="manage_inventory_delete"),
    path("manage/departments/<str:code>/datasets/", manage_views.datasets_view, name="manage_datasets"),
    path("manage/datasets/<str:slug>/", manage_views.dataset_edit_view, name="manage_dataset"),
    path("manage/datasets/<str:slug>/fields/", manage_views.dataset_fields_view, name="manage_dataset_fields"),
    path("manage/datasets/<str:slug>/resources/", manage_views.resource_add_view, name="manage_resource_add"),
    path("manage/resources/<int:pk>/delete/", manage_views.resource_delete_view, name="manage_resource_delete"),
    path("manage/datasets/<str:slug>/publish/", manage_views.dataset_publish_view, name="manage_dataset_publish"),
    path("manage/datasets/<str:slug>/withdraw/", manage_views.dataset_withdraw_view, name="manage_dataset_withdraw"),
]
