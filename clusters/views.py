"""Pages of the organisation: departments, clusters and the service catalogue.

Every read goes through `clusters.selectors`, which applies each model's `visible_to`
gate; list pages run a constant number of queries whatever the number of rows.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clusters import selectors
from clusters.forms import ClusterFilterForm


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    departments = selectors.department_list(user=request.user)
    return render(request, "clusters/department_list.html", {"departments": departments})


@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    form = ClusterFilterForm(request.GET or None, user=request.user)
    service_code = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            service_code = form.cleaned_data["service"] or None
        else:
            status = 400
    groups = selectors.services_with_clusters(user=request.user, service_code=service_code)
    return render(
        request,
        "clusters/cluster_list.html",
        {"form": form, "groups": groups, "service_code": service_code},
        status=status,
    )


@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    services = list(selectors.service_catalogue(user=request.user))
    for service in services:
        for standard in service.standards.all():
            # 99.5000 reads as 99.5, and 100.0000 as 100 (not 1E+2).
            standard.target_display = format(standard.target.normalize(), "f")
    return render(request, "clusters/service_list.html", {"services": services})
