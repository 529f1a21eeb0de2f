"""Admin pages for canned responses: list, create, edit, delete."""

from __future__ import annotations

from aiohttp import web

from hub.actions import (
    do_create_canned_response,
    do_delete_canned_response,
    do_update_canned_response,
)
from hub.actions.canned import PLACEHOLDERS, clean_body, clean_shortcut, clean_title
from hub.errors import HubError, NotFound
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import CannedResponse
from hub.web.admin.forms import Form, done, read_form
from hub.web.templating import render

SHORTCUT_TAKEN = {"shortcut_exists": "shortcut"}


async def list_canned(request: web.Request) -> web.StreamResponse:
    """GET /admin/canned."""
    items = await request.config_dict[STORE_KEY].list_canned_responses()
    return render(request, "admin/canned.html", {"section": "canned", "items": items})


def _form_page(
    request: web.Request, form: Form, canned: CannedResponse | None, status: int = 200
) -> web.Response:
    context = {
        "section": "canned",
        "form": form,
        "canned": canned,
        "placeholder_hint": ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS),
    }
    return render(request, "admin/canned_form.html", context, status=status)


def _checked(form: Form) -> tuple[str, str, str] | None:
    shortcut = form.check("shortcut", clean_shortcut)
    title = form.check("title", clean_title)
    body = form.check("body", clean_body)
    if shortcut is None or title is None or body is None:
        return None
    return shortcut, title, body


async def new_canned_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/canned/new."""
    return _form_page(request, Form(), None)


async def create_canned(request: web.Request) -> web.StreamResponse:
    """POST /admin/canned/new."""
    form = await read_form(request)
    checked = _checked(form)
    if checked is not None:
        shortcut, title, body = checked
        try:
            canned = await do_create_canned_response(
                request.config_dict[ACTIONS_KEY], shortcut=shortcut, title=title, body=body
            )
        except HubError as exc:
            form.fail(exc, SHORTCUT_TAKEN)
        else:
            return done(request, "/admin/canned", f"Canned response /{canned.shortcut} created.")
    return _form_page(request, form, None, status=422)


async def _canned(request: web.Request) -> CannedResponse:
    canned_id = request.match_info["canned_id"]
    canned = await request.config_dict[STORE_KEY].get_canned_response(canned_id)
    if canned is None:
        raise NotFound(
            f"canned response {canned_id!r} does not exist", code="canned_response_not_found"
        )
    return canned


async def edit_canned_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/canned/{canned_id}."""
    canned = await _canned(request)
    form = Form.filled({"shortcut": canned.shortcut, "title": canned.title, "body": canned.body})
    return _form_page(request, form, canned)


async def update_canned(request: web.Request) -> web.StreamResponse:
    """POST /admin/canned/{canned_id}."""
    canned = await _canned(request)
    form = await read_form(request)
    checked = _checked(form)
    if checked is not None:
        shortcut, title, body = checked
        try:
            updated = await do_update_canned_response(
                request.config_dict[ACTIONS_KEY],
                canned.id,
                shortcut=shortcut,
                title=title,
                body=body,
            )
        except HubError as exc:
            form.fail(exc, SHORTCUT_TAKEN)
        else:
            return done(request, "/admin/canned", f"Canned response /{updated.shortcut} saved.")
    return _form_page(request, form, canned, status=422)


async def delete_canned(request: web.Request) -> web.StreamResponse:
    """POST /admin/canned/{canned_id}/delete."""
    canned = await _canned(request)
    await do_delete_canned_response(request.config_dict[ACTIONS_KEY], canned.id)
    return done(request, "/admin/canned", f"Canned response /{canned.shortcut} deleted.")


def add_canned_routes(app: web.Application) -> None:
    """Register the canned-response pages."""
    app.router.add_get("/admin/canned", list_canned, name="admin_canned")
    app.router.add_get("/admin/canned/new", new_canned_form)
    app.router.add_post("/admin/canned/new", create_canned)
    app.router.add_get("/admin/canned/{canned_id}", edit_canned_form)
    app.router.add_post("/admin/canned/{canned_id}", update_canned)
    app.router.add_post("/admin/canned/{canned_id}/delete", delete_canned)
