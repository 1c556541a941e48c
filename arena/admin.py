from django.contrib import admin
from django.http import HttpRequest

from arena import models
from arena.forms import ThrottledAdminAuthenticationForm


class PromptInline(admin.TabularInline):
    model = models.Prompt
    fields = ("external_id", "category", "position")
    extra = 0
    show_change_link = True


@admin.register(models.PromptSet)
class PromptSetAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "bundled", "license")
    search_fields = ("slug", "name")


@admin.register(models.Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("__str__", "category", "position")
    list_filter = ("prompt_set", "category")
    search_fields = ("external_id",)


class ContenderAliasInline(admin.TabularInline):
    model = models.ContenderAlias
    extra = 1


@admin.register(models.Contender)
class ContenderAdmin(admin.ModelAdmin):
    list_display = ("name", "api_model", "base_url")
    search_fields = ("name", "aliases__alias")
    inlines = [ContenderAliasInline]


@admin.register(models.Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "reveals_identity", "origin")
    list_filter = ("prompt__prompt_set", "contender", "reveals_identity")
    raw_id_fields = ("prompt",)


@admin.register(models.Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ("id", "prompt", "turn", "vote_count", "is_gold")
    list_filter = ("prompt__prompt_set", "is_gold", "turn")
    raw_id_fields = ("prompt", "answer_a", "answer_b")


@admin.register(models.RaterPool)
class RaterPoolAdmin(admin.ModelAdmin):
    filter_horizontal = ("members", "prompt_sets")


class VoteRevisionInline(admin.TabularInline):
    """The versions a rater's changes replaced: history, never edited."""

    model = models.VoteRevision
    fields = (
        "version",
        "winner",
        "grade_a",
        "grade_b",
        "helpful",
        "honest",
        "harmless",
        "comment",
        "recorded_at",
        "replaced_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: models.Vote | None = None) -> bool:
        return False


@admin.register(models.Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("id", "rater", "comparison", "winner", "a_shown_first", "version", "created_at")
    list_filter = ("winner", "comparison__prompt__prompt_set")
    raw_id_fields = ("comparison", "assignment")
    inlines = [VoteRevisionInline]


@admin.register(models.RaterPreference)
class RaterPreferenceAdmin(admin.ModelAdmin):
    list_display = ("rater", "one_click")
    raw_id_fields = ("rater",)


@admin.register(models.VerdictSource)
class VerdictSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "is_human")


@admin.register(models.ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "kind", "source", "format", "rows", "created_at")
    list_filter = ("kind", "source")


admin.site.site_header = "Arena administration"
# The admin's log-in counts failed attempts with the site's (arena.services.logins).
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(models.CategoryMapping)
class CategoryMappingAdmin(admin.ModelAdmin):
    list_display = ("prompt_set", "raw", "canonical")
    list_filter = ("prompt_set",)
    search_fields = ("raw", "canonical")
