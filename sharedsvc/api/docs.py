"""The OpenAPI schema and its browsable documentation, for signed-in users only
(SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]): the schema names every field and filter."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class SchemaView(SpectacularAPIView):
    """The schema, in JSON unless YAML is asked for (`?format=yaml`), so that a refusal
    (401 for a signed-out caller) is JSON like every other answer of the API."""

    renderer_classes = [
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI whose start-up script is a second request (`?script`), not inline, so the
    page keeps to the Content-Security-Policy."""

    template_name = "sharedsvc/swagger_ui.html"


# A person who is not signed in goes to the sign-in page and comes back, as on every page.
api_docs = login_required(ApiDocsView.as_view(url_name="api-schema"))
