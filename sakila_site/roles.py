"""The roles of the site, as Django groups with model permissions.

- Clerk: the rental desk, the rental API, and the admin for rentals,
  payments and customers; reads the catalogue.
- Manager: everything a clerk does, edits the catalogue and stores, runs the
  lake (and edits its schedules) and reads the reports.
- Admin: every permission, users and groups included.

Pages and endpoints check permissions (``rentals.add_rental``,
``lake.view_pipelinerun``...), never group names, so a user given a single
permission by hand is treated the same way. The groups are created and kept
in step by migrations calling ``sync_role_permissions``.
"""

CLERK = "Clerk"
MANAGER = "Manager"
ADMIN = "Admin"
ROLES = (CLERK, MANAGER, ADMIN)

# Sakila tables a clerk writes through the desk and the admin.
CLERK_WRITES = {
    "rental": ("add", "change"),
    "payment": ("add",),
    "customer": ("add", "change"),
    "address": ("add", "change"),
}
# Everything else of the rental database is the catalogue, which managers edit.
CATALOGUE = (
    "actor",
    "address",
    "category",
    "city",
    "country",
    "customer",
    "film",
    "filmactor",
    "filmcategory",
    "inventory",
    "language",
    "staff",
    "store",
)


def role_permission_codenames(role: str, models_by_app: dict[str, list[str]]) -> set[str]:
    """``app_label.codename`` of every permission ``role`` has.

    ``models_by_app`` lists each app's model names (lower case), so that the
    rule works on the historical models of a migration as on the live ones.
    """
    rentals = models_by_app.get("rentals", [])
    views = {f"rentals.view_{model}" for model in rentals}
    clerk = views | {
        f"rentals.{action}_{model}" for model, actions in CLERK_WRITES.items() for action in actions
    }
    if role == CLERK:
        return clerk
    # The lake and its schedules: see and start runs, cancel and retry them.
    lake = {
        f"{app}.{action}_{model}"
        for app in ("lake", "django_celery_beat")
        for model in models_by_app.get(app, [])
        for action in ("view", "add", "change")
    }
    catalogue = {
        f"rentals.{action}_{model}" for model in CATALOGUE for action in ("add", "change", "delete")
    }
    if role == MANAGER:
        return clerk | catalogue | lake
    if role == ADMIN:
        return {
            f"{app}.{action}_{model}"
            for app, models in models_by_app.items()
            for model in models
            for action in ("view", "add", "change", "delete")
        }
    raise ValueError(f"unknown role {role!r}")


def sync_role_permissions(apps, schema_editor=None) -> None:
    """Create the role groups and set their permissions (a migration operation)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrate; make them now so groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    role_groups_sync(apps)


def role_groups_sync(apps) -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    models_by_app: dict[str, list[str]] = {}
    for model in apps.get_models():
        models_by_app.setdefault(model._meta.app_label, []).append(model._meta.model_name)
    known = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = role_permission_codenames(role, models_by_app)
        group.permissions.set([known[name] for name in sorted(wanted) if name in known])


def user_role(user) -> str | None:
    """The highest role a login has (Admin for a superuser); None for none."""
    if user.is_superuser:
        return ADMIN
    groups = set(user.groups.values_list("name", flat=True))
    return next((role for role in reversed(ROLES) if role in groups), None)
