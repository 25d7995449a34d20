from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rentals import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"table_counts": selectors.table_row_counts()})
