from django.contrib import admin

from core.phones import phone_mask
from members.models import Member, MemberMatch, MemberPhone


class MemberPhoneInline(admin.TabularInline):
    model = MemberPhone
    extra = 1
    fields = ["number", "position"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "status", "main_phone", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=number", "name", "=phones__number"]
    inlines = [MemberPhoneInline]
    show_full_result_count = False

    @admin.display(description="Main phone")
    def main_phone(self, obj):
        phone = obj.phones.first()
        return phone_mask(phone.number) if phone else "—"


@admin.register(MemberMatch)
class MemberMatchAdmin(admin.ModelAdmin):
    list_display = ["payment", "member", "rule", "account_normalised", "note", "matched_at"]
    list_filter = ["rule", ("member", admin.EmptyFieldListFilter)]
    search_fields = ["=payment__trans_id", "=member__number", "member__name", "account_normalised"]
    list_select_related = ["payment", "member"]
    raw_id_fields = ["payment", "member"]
    readonly_fields = ["payment", "rule", "account_normalised", "note", "matched_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "member" in form.changed_data:
            obj.rule = MemberMatch.Rule.MANUAL if obj.member_id else MemberMatch.Rule.NONE
            obj.note = f"Set by {request.user.get_username()}."
        super().save_model(request, obj, form, change)
