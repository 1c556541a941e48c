# Key variables must be variable names (arena.keys); pasted keys are removed from the data.

from django.db import migrations, models

import arena.validators
from arena.keys import is_variable_name


def blank_pasted_keys(apps, schema_editor):
    """A contender whose api_key_env holds a key rather than a variable's name (hf_..., sk-...) never
    had its own key: the variable did not exist, so OPENAI_API_KEY or no key was used. Blank is
    exactly that, and the key leaves the database (and every later backup)."""
    Contender = apps.get_model("arena", "Contender")
    pasted = [pk for pk, value in Contender.objects.exclude(api_key_env="").values_list("pk", "api_key_env")
              if not is_variable_name(value)]
    Contender.objects.filter(pk__in=pasted).update(api_key_env="")
    if pasted:
        print(f"\n  {len(pasted)} contender(s) held an API key in api_key_env: removed. Rotate those keys.")


class Migration(migrations.Migration):

    dependencies = [
        ('arena', '0002_rendered_html'),
    ]

    operations = [
        migrations.AlterField(
            model_name='contender',
            name='api_key_env',
            field=models.CharField(blank=True, help_text='NAME of the environment variable holding the API key: ARENA_KEY_… (the ARENA_KEY_PREFIX setting) or OPENAI_API_KEY. Empty: OPENAI_API_KEY if it is set, else no key (local servers need none).', max_length=100, validators=[arena.validators.validate_api_key_env]),
        ),
        migrations.AlterField(
            model_name='contender',
            name='base_url',
            field=models.URLField(blank=True, validators=[arena.validators.validate_endpoint_host]),
        ),
        migrations.RunPython(blank_pasted_keys, migrations.RunPython.noop),
    ]
