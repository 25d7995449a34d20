from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rentals import selectors

# What each part of the site needs (sakila_site/roles.py gives them per role).
RENT = "rentals.add_rental"
LAKE = "lake.view_pipelinerun"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the user may use, and no more; the row counts for those who run the lake."""
    counts = selectors.table_row_counts() if request.user.has_perm(LAKE) else None
    return render(request, "home.html", {"table_counts": counts})


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Where a login lands (``LOGIN_REDIRECT_URL``): a clerk at the desk, the
    others (managers, admins) on the home page, which shows what they may use."""
    user = request.user
    if (
        user.has_perm(RENT)
        and not user.has_perm(LAKE)
        and selectors.staff_for_user(user) is not None
    ):
        return redirect("desk:index")
    return redirect("home")
