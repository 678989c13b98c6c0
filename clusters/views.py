"""Pages of the organisation (placeholder until the UI lands)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def department_list(request):
    return HttpResponse("departments")


@login_required
def department_detail(request, code):
    return HttpResponse(code)


@login_required
def cluster_list(request):
    return HttpResponse("clusters")


@login_required
def cluster_detail(request, code):
    return HttpResponse(code)


@login_required
def service_list(request):
    return HttpResponse("services")
