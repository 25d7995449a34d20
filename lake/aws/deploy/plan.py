"""The plan engine: each resource compared field by field with what the
settings ask for and turned into an action (create, update with the changed
fields, replace, delete, unchanged, absent, kept); the plan as printed; and
applying it, which makes only the plan's calls, in order.

Planning makes read-only calls only, so a plan is shown in full before
anything changes, and a second deploy finds everything unchanged."""

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from lake.aws.deploy.resource import DeployError, Resource, aws_message, is_not_found

CREATE, UPDATE, REPLACE, DELETE = "create", "update", "replace", "delete"
UNCHANGED, ABSENT, KEEP = "unchanged", "absent", "keep"
CHANGING_KINDS = (CREATE, UPDATE, REPLACE, DELETE)

_MISSING = object()


def _show(value: Any) -> str:
    if value is None or value is _MISSING:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 100 else f"{text[:97]}..."


def field_changes(desired: Any, current: Any, path: str = "", exact: tuple = ()) -> Iterator[str]:
    """``"<field>: <current> -> <desired>"`` for each field that differs.

    Only the fields deploy sets are compared (AWS adds its own: timestamps,
    defaults), and of those only the ones AWS's answer holds: a field it
    leaves out cannot be told from a default (moto's GetConnection has no
    ConnectionType, for one). The dicts named in ``exact`` must match key for
    key (the jobs' arguments: an argument deploy no longer sets is removed).
    """
    name = path.rsplit(".", 1)[-1]
    if isinstance(desired, dict) and isinstance(current, dict):
        keys = desired.keys() | current.keys() if name in exact else desired.keys() & current.keys()
        for key in sorted(keys):
            yield from field_changes(
                desired.get(key, _MISSING),
                current.get(key, _MISSING),
                f"{path}.{key}" if path else key,
                exact,
            )
    elif (
        isinstance(desired, list)
        and isinstance(current, list)
        and len(desired) == len(current)
        and all(isinstance(item, dict) for item in desired)
    ):
        for index, (want, have) in enumerate(zip(desired, current, strict=True)):
            yield from field_changes(want, have, f"{path}[{index}]", exact)
    elif desired != current and not (desired is _MISSING and current is None):
        yield f"{path}: {_show(current)} -> {_show(desired)}"


@dataclass
class Action:
    kind: str
    resource: Resource
    changes: list[str] = field(default_factory=list)
    note: str = ""
    run: Callable[[], None] | None = None

    def lines(self) -> list[str]:
        head = f"  {self.kind:<10} {self.resource.kind:<17} {self.resource.name}"
        if self.note:
            head += f"  ({self.note})"
        return [head, *(f"{'':14}{change}" for change in self.changes)]

    def done(self) -> str:
        return f"{PAST.get(self.kind, self.kind)} {self.resource}"


PAST = {CREATE: "created", UPDATE: "updated", REPLACE: "replaced", DELETE: "deleted"}
PENDING = {
    CREATE: "to create",
    UPDATE: "to update",
    REPLACE: "to replace",
    DELETE: "to delete",
    UNCHANGED: "unchanged",
    ABSENT: "already absent",
    KEEP: "kept",
}


@dataclass
class Plan:
    command: str  # "deploy" or "destroy"
    actions: list[Action]
    notes: list[str] = field(default_factory=list)  # printed under the plan

    @property
    def changing(self) -> list[Action]:
        return [action for action in self.actions if action.kind in CHANGING_KINDS]

    def summary(self, *, applied: bool = False) -> str:
        counts = Counter(action.kind for action in self.actions)
        words = PAST if applied else PENDING
        parts = [f"{counts[kind]} {word}" for kind, word in words.items() if counts[kind]]
        return ", ".join(parts) or "nothing"

    def render(self) -> str:
        lines = [f"lake {self.command} in {settings.AWS_REGION}:"]
        for action in self.actions:
            lines += action.lines()
        lines.append(f"Plan: {self.summary()}.")
        return "\n".join(lines + self.notes)


def aws_reading(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as error:
        raise DeployError(f"Could not read {what}: {aws_message(error)}") from None


def planned(resource: Resource) -> Action:
    # What the settings ask for is worked out first, so that it fails (an
    # unknown subnet...) before anything changes, even for a resource to create.
    desired = aws_reading(str(resource), resource.desired)
    current = aws_reading(str(resource), resource.read)
    if current is None:
        return Action(CREATE, resource, run=resource.create)
    changes = list(field_changes(desired, current, exact=resource.exact))
    if not changes:
        return Action(UNCHANGED, resource)
    if any(desired.get(name) != current.get(name) for name in resource.immutable):

        def replace() -> None:
            resource.delete()
            resource.create()

        return Action(REPLACE, resource, changes, run=replace)
    return Action(UPDATE, resource, changes, run=lambda: resource.update(current))


def planned_removal(resource: Resource, *, keep_reason: str = "") -> Action:
    current = aws_reading(str(resource), resource.read)
    if current is None:
        return Action(ABSENT, resource)
    count = current.get("objects")
    note = f"{count:,} object{'s' if count != 1 else ''}" if count is not None else ""
    if keep_reason:
        return Action(KEEP, resource, note="; ".join(filter(None, [note, keep_reason])))
    return Action(DELETE, resource, note=note, run=resource.delete)


def plan_apply(plan: Plan, on_applied: Callable[[Action], None] | None = None) -> None:
    """Make the plan's changes in order; stop at the first AWS error.

    What was done stays done: running the command again finishes the rest.
    """
    changing = plan.changing
    for done, action in enumerate(changing):
        try:
            action.run()
        except ClientError as error:
            if not (action.kind == DELETE and is_not_found(error)):  # gone meanwhile: done
                raise _apply_error(plan, action, done, aws_message(error)) from None
        except (BotoCoreError, DeployError) as error:
            raise _apply_error(plan, action, done, str(error)) from None
        if on_applied:
            on_applied(action)


def _apply_error(plan: Plan, action: Action, done: int, message: str) -> DeployError:
    return DeployError(
        f"Could not {action.kind} {action.resource}: {message}\n"
        f"{done} of {len(plan.changing)} changes were made before it; fix the cause "
        f"and run `lake {plan.command}` again to finish."
    )
