"""Server-side form handling for the admin pages: entered values, field errors, PRG.

    form = await read_form(request)
    name = form.check("name", clean_name)          # cleaned value, or None + an error
    if form.ok:
        try:
            await do_something(ctx, name=name)
        except HubError as exc:
            form.fail(exc)                          # lands next to its field (or on top)
    if not form.ok:
        return render(request, "admin/x.html", {"form": form, ...}, status=422)
    return done(request, "/admin/x", "Saved")       # 303 + flash message

Templates read `form.values[name]` (as typed), `form.lists[name]` (checkboxes) and
`form.errors[name]`; errors that belong to no field are under "_form".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from hub.errors import HubError, InvalidInput
from hub.keys import LOOKUPS_KEY
from hub.web.bodies import read_form_data
from hub.web.flash import flash
from hub.web.templating import see_other

T = TypeVar("T")
FORM_ERROR = "_form"
MAX_VALUE = 100_000


@dataclass
class Form:
    """One submitted (or pre-filled) form."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def filled(cls, values: Mapping[str, Any], lists: Mapping[str, Iterable[str]] = {}) -> Form:
        """A form showing existing data (an edit page before it is submitted)."""
        return cls(
            values={k: "" if v is None else str(v) for k, v in values.items()},
            lists={k: list(v) for k, v in lists.items()},
        )

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str) -> str:
        """The value as typed ('' if absent)."""
        return self.values.get(name, "")

    def check(self, name: str, clean: Callable[[str], T]) -> T | None:
        """`clean(value)`, or None with the error recorded next to `name`."""
        try:
            return clean(self.get(name))
        except HubError as exc:
            self.errors.setdefault(name, exc.message)
            return None

    def error(self, name: str, message: str) -> None:
        """Record an error next to a field (the first one per field is shown)."""
        self.errors.setdefault(name, message)

    def fail(self, exc: HubError, by_code: Mapping[str, str] = {}) -> None:
        """Record an action's error next to its field (named by the error, or by its code
        through `by_code`, e.g. {"agent_exists": "email"}), else on the whole form."""
        name = exc.details.get("field") or by_code.get(exc.code)
        self.error(name if isinstance(name, str) and name else FORM_ERROR, exc.message)


async def read_form(request: web.Request) -> Form:
    """The submitted urlencoded/multipart form (file parts ignored, values capped)."""
    data = await read_form_data(request)
    form = Form()
    for name in data:
        items = [v for v in data.getall(name) if isinstance(v, str)]
        if not items:
            continue
        form.values[name] = items[0][:MAX_VALUE]
        form.lists[name] = [v[:MAX_VALUE] for v in items]
    return form


def required(what: str) -> Callable[[str], str]:
    """A check that the trimmed value is not empty."""

    def clean(value: str) -> str:
        value = value.strip()
        if not value:
            raise InvalidInput(f"{what} must not be empty")
        return value

    return clean


def done(request: web.Request, location: str, message: str) -> web.StreamResponse:
    """Post/Redirect/Get: 303 to `location` with a flash message; caches forgotten."""
    # agents, teams and inboxes feed the cached lookups: an edit must show at once
    request.config_dict[LOOKUPS_KEY].forget()
    response = see_other(location)
    flash(request, response, message)
    return response
