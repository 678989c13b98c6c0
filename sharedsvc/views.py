"""Home and sign-in (placeholder until the UI lands)."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse


class SignInForm(AuthenticationForm):
    pass


@login_required
def home(request):
    return HttpResponse("home")
