from django.contrib import admin

from judge import models


@admin.register(models.Judge)
class JudgeAdmin(admin.ModelAdmin):
    list_display = ("name", "model", "base_url", "key_variable", "max_concurrent", "requests_per_minute")


@admin.register(models.JudgeRun)
class JudgeRunAdmin(admin.ModelAdmin):
    list_display = ("id", "judge", "prompt_set", "mode", "status", "created_at")
    list_filter = ("status", "mode", "judge")


@admin.register(models.Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ("id", "run", "comparison", "answer", "order", "turn", "status", "winner")
    list_filter = ("status", "run")
    raw_id_fields = ("comparison", "answer")
