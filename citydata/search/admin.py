from django.contrib import admin

from citydata.search.models import Synonym


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ("terms", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("terms",)
