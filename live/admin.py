from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from live.models import LiveBattle, LiveContender, LivePromptReview, LiveRefusal


@admin.register(LiveContender)
class LiveContenderAdmin(admin.ModelAdmin):
    list_display = ("contender", "enabled", "weight", "added_at", "price_input", "price_output", "stand_in")
    list_editable = ("enabled", "weight")
    list_filter = ("enabled", "stand_in")
    autocomplete_fields = ("contender",)


@admin.register(LiveBattle)
class LiveBattleAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "contender_a",
        "contender_b",
        "status",
        "turns",
        "winner",
        "reveals_identity",
        "cost_a",
        "cost_b",
    )
    list_filter = ("status", "reveals_identity")
    search_fields = ("contender_a__name", "contender_b__name", "user__username", "address")
    readonly_fields = [f.name for f in LiveBattle._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LiveBattle]:
        return super().get_queryset(request).select_related("user", "contender_a", "contender_b")


@admin.register(LivePromptReview)
class LivePromptReviewAdmin(admin.ModelAdmin):
    list_display = ("text", "keep", "reviewed_by", "reviewed_at")
    list_filter = ("keep",)


@admin.register(LiveRefusal)
class LiveRefusalAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "address", "categories", "prompt")
    readonly_fields = ("user", "address", "battle", "prompt", "categories", "created_at")
