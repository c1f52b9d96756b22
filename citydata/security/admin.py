from django.contrib import admin

from citydata.security.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only everywhere, the admin included."""

    list_display = ("seq", "created_at", "actor_label", "actor_role", "action", "object_type", "object_id", "ip")
    list_filter = ("action", "actor_role", "object_type")
    search_fields = ("actor_label", "object_repr", "request_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
