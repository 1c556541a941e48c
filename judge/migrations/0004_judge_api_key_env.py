# Key variables must be variable names (arena.keys); keys stored by mistake leave the data.

from django.db import migrations, models

import arena.validators
from arena.keys import redact
from arena.validators import pasted_keys_remove


def remove_stored_keys(apps, schema_editor):
    """Judges' api_key_env values that are keys, not variable names, are blanked (the variable never
    existed, so OPENAI_API_KEY or no key was used: blank keeps that), and error texts stored from
    endpoints are redacted (a 401 could echo the key)."""
    pasted_keys_remove(apps.get_model("judge", "Judge"))
    for name in ("JudgeRun", "Judgment"):
        model = apps.get_model("judge", name)
        rows = model.objects.exclude(error="").values_list("pk", "error").iterator(2000)
        cleaned_rows = ((pk, error, redact(error)) for pk, error in rows)
        changed = [(pk, cleaned) for pk, error, cleaned in cleaned_rows if cleaned != error]
        for pk, cleaned in changed:
            model.objects.filter(pk=pk).update(error=cleaned)


class Migration(migrations.Migration):
    dependencies = [
        ("judge", "0003_judgment_preference_panels"),
    ]

    operations = [
        migrations.AlterField(
            model_name="judge",
            name="api_key_env",
            field=models.CharField(
                blank=True,
                default="OPENAI_API_KEY",
                help_text="NAME of the environment variable holding the API key: ARENA_KEY_… (the ARENA_KEY_PREFIX setting) or OPENAI_API_KEY. Empty: OPENAI_API_KEY if it is set, else no key (local servers need none).",
                max_length=100,
                validators=[arena.validators.validate_api_key_env],
            ),
        ),
        migrations.AlterField(
            model_name="judge",
            name="base_url",
            field=models.URLField(
                blank=True,
                help_text="Empty: OPENAI_BASE_URL, else the OpenAI API.",
                validators=[arena.validators.validate_endpoint_host],
            ),
        ),
        migrations.RunPython(remove_stored_keys, migrations.RunPython.noop),
    ]
