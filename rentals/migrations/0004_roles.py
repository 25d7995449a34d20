"""The Clerk, Manager and Admin groups with their permissions (sakila_site/roles.py)."""

from django.db import migrations

from sakila_site.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("rentals", "0003_staff_profile"),
        ("lake", "0001_pipeline_runs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
