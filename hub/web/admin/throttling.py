"""Admin page for sign-in throttling: who is being slowed down, and a button to clear it.

The counts live in this web process's memory (hub/web/ratelimit.py), so the page shows
and clears this process's counts only; a restart forgets them all anyway.
"""

from __future__ import annotations

from aiohttp import web

from hub.web.admin.forms import FORM_ERROR, Form, done, read_form
from hub.web.ratelimit import LOGIN_THROTTLE_KEY
from hub.web.templating import render

PAGE = "/admin/sign-in-throttling"
MAX_ROWS = 500  # the longest waits first; a flood of addresses must not make a huge page


def _page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    rows = request.config_dict[LOGIN_THROTTLE_KEY].throttled()
    context = {
        "section": "sign-in-throttling",
        "rows": rows[:MAX_ROWS],
        "hidden": max(0, len(rows) - MAX_ROWS),
        "form": form,
    }
    return render(request, "admin/sign_in_throttling.html", context, status=status)


async def list_throttled(request: web.Request) -> web.StreamResponse:
    """GET /admin/sign-in-throttling: every remembered failure count and its wait."""
    return _page(request, Form())


async def clear_throttled(request: web.Request) -> web.StreamResponse:
    """POST /admin/sign-in-throttling/clear: forget an account's, an address's or a pair's count."""
    form = await read_form(request)
    account, address = form.get("account").strip(), form.get("address").strip()
    throttle = request.config_dict[LOGIN_THROTTLE_KEY]
    if account and address:
        throttle.clear_pair(account=account, address=address)
        message = f"Cleared the failures of {account} from {address}."
    elif account:
        throttle.clear_account(account)
        message = f"Cleared the failures of {account} from every address."
    elif address:
        throttle.clear_address(address)
        message = f"Cleared the failures from {address}."
    else:
        form.error(FORM_ERROR, "Name an account, an address, or both.")
        return _page(request, form, status=422)
    return done(request, PAGE, message)


def add_throttling_routes(app: web.Application) -> None:
    """Register the sign-in throttling page."""
    app.router.add_get(PAGE, list_throttled, name="admin_sign_in_throttling")
    app.router.add_post(PAGE + "/clear", clear_throttled)
