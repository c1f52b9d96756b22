"""The admin shows accounts read-only: every change goes through the services, and so into the audit trail."""

from django.contrib import admin

from citydata.accounts.models import Department, DepartmentDuty, Organisation, RoleAssignment, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("username", "email", "mobile", "display_name", "is_active", "date_joined")
    search_fields = ("email", "mobile", "display_name")
    exclude = ("password", "resident_id_encrypted", "resident_id_digest", "user_permissions", "groups")


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "parent", "is_active")
    search_fields = ("code", "name")


@admin.register(DepartmentDuty)
class DepartmentDutyAdmin(ReadOnlyAdmin):
    list_display = ("department", "stage", "user", "since")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "department", "granted_at")


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "type", "created_at")
