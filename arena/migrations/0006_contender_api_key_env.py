# Key variables must be variable names (arena.keys); pasted keys are removed from the data.

from django.db import migrations, models

import arena.validators
from arena.validators import pasted_keys_remove


def blank_pasted_keys(apps, schema_editor):
    """A contender whose api_key_env holds a key rather than a variable's name (hf_..., sk-...) loses
    it: see arena.validators.pasted_keys_remove."""
    pasted_keys_remove(apps.get_model("arena", "Contender"))


class Migration(migrations.Migration):
    dependencies = [
        ("arena", "0005_imported_scores"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contender",
            name="api_key_env",
            field=models.CharField(
                blank=True,
                help_text="NAME of the environment variable holding the API key: ARENA_KEY_… (the ARENA_KEY_PREFIX setting) or OPENAI_API_KEY. Empty: OPENAI_API_KEY if it is set, else no key (local servers need none).",
                max_length=100,
                validators=[arena.validators.validate_api_key_env],
            ),
        ),
        migrations.AlterField(
            model_name="contender",
            name="base_url",
            field=models.URLField(blank=True, validators=[arena.validators.validate_endpoint_host]),
        ),
        migrations.RunPython(blank_pasted_keys, migrations.RunPython.noop),
    ]
