"""The service-levels API: providers' returns (`measurements/`) and the five reports.

Measurements: everyone signed in reads what `Measurement.objects.visible_to` lets them see;
the provider's managers (for their own provider's clusters) and administrators submit one
return or a list of them at once (all or nothing) and correct a value (PATCH).

Reports (`reports/...`, GET only, JSON or `?format=csv`) are computed by the selectors in a
fixed number of queries. Rows come as the other lists do (`count`, `next`, `previous`,
`results`; CSV whole). Who sees which rows:

- analysts and administrators: every row;
- provider managers: rows of their own provider's clusters (a filter naming another
  provider gives no rows);
- department managers and deputy ministers: rows about their own department and the
  clusters it belongs or belonged to. Benefits (which show charges, private to each
  department) are their own department's rows only, and so are its totals; alternatives
  are their own department's (the default; another department is a 403).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, Q
from django.utils import timezone
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from clusters.models import Cluster, Membership
from servicelevels import selectors, services
from servicelevels.api import serializers
from servicelevels.filters import (
    FISCAL_YEAR_SCHEMA,
    MONTH_SCHEMA,
    AlternativesQuery,
    BenefitsQuery,
    ClusterCostsQuery,
    MeasurementFilter,
    ReportQuery,
    SelfPreferenceQuery,
    ServiceLevelsQuery,
)
from servicelevels.models import Measurement, met_expression
from sharedsvc.api.exceptions import validation_detail
from sharedsvc.api.fields import FiscalYearFormField, PeriodFormField
from sharedsvc.api.filters import StrictBooleanField
from sharedsvc.api.pagination import Pagination
from sharedsvc.api.schema import AutoSchema
from sharedsvc.api.views import CSVUnpaginatedMixin
from sharedsvc.models import User
from sharedsvc.periods import fiscal_year_bounds, fiscal_year_of, next_month, previous_month

NOT_YOUR_CLUSTER = "You may only submit and correct returns for your own provider's clusters."
NOT_A_RETURN = "Send a return (an object) or a list of returns."
NO_RETURNS = "Send at least one return."
MAX_RETURNS = 1000
TOO_MANY_RETURNS = f"Send at most {MAX_RETURNS} returns at once."
OWN_ALTERNATIVES = "You may only see your own department's alternatives."

STRINGS = {"type": "array", "items": {"type": "string"}}
# One return: messages by field name. A list: by `row N` (1-based, as sent), then by field.
ROW_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Messages by field name for one return. For a list, by `row N` (1-based, in the "
        "order sent) and then by field name: every row with unreadable fields is named; of "
        "rows refused by the rules (standard of another service, department not a member "
        "that month, a month not ended, a duplicate) the first is named. Nothing was saved."
    ),
    "properties": {"detail": {"type": "string"}, "non_field_errors": STRINGS},
    "additionalProperties": {
        "oneOf": [STRINGS, {"type": "object", "additionalProperties": STRINGS}]
    },
}


class MeasurementSchema(AutoSchema):
    """A POST's 400 names rows as well as fields."""

    def _validation_error_ref(self) -> dict[str, Any]:
        if self.method != "POST":
            return super()._validation_error_ref()
        component = ResolvedComponent(
            name="MeasurementValidationError",
            type=ResolvedComponent.SCHEMA,
            schema=ROW_ERRORS_SCHEMA,
            object="MeasurementValidationError",
        )
        self.registry.register_on_missing(component)
        return component.ref


SUBMISSION = PolymorphicProxySerializer(
    component_name="MeasurementSubmission",
    serializers=[
        serializers.MeasurementInputSerializer,
        serializers.MeasurementInputSerializer(many=True),
    ],
    resource_type_field_name=None,
    many=False,
)
SUBMITTED = PolymorphicProxySerializer(
    component_name="MeasurementSubmitted",
    serializers=[serializers.MeasurementSerializer, serializers.MeasurementSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class MeasurementViewSet(
    CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Service-level returns: a provider's measurement of a standard for one customer
    department of one cluster in one month. `met` follows the standard's target and
    direction; `late` means submitted after the 10th of the next month.

    `POST` one return (an object) or many (a list): all are saved or none. `PATCH` corrects
    the value only."""

    queryset = Measurement.objects.select_related(
        "standard", "cluster", "department", "submitted_by"
    )
    serializer_class = serializers.MeasurementSerializer
    filterset_class = MeasurementFilter
    parser_classes = [JSONParser]
    schema = MeasurementSchema()

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user).with_met()

    def _require(self, action: str, cluster) -> None:
        if not self.request.user.has_perm(f"servicelevels.{action}_measurement", cluster):
            raise PermissionDenied(NOT_YOUR_CLUSTER)

    @extend_schema(
        request=SUBMISSION,
        responses={201: SUBMITTED},
        description=(
            "One return (an object) answers with the saved return; a list answers with the "
            "saved list in the order sent. All or nothing: one bad row saves none. A cluster "
            "of another provider is a 403."
        ),
    )
    def create(self, request, *args, **kwargs):
        many = isinstance(request.data, list)
        if not many and not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [NOT_A_RETURN]})
        items = request.data if many else [request.data]
        if not items:
            raise ValidationError({"non_field_errors": [NO_RETURNS]})
        if len(items) > MAX_RETURNS:
            raise ValidationError({"non_field_errors": [TOO_MANY_RETURNS]})
        rows: list[dict[str, Any]] = []
        errors: dict[str, Any] = {}
        for number, item in enumerate(items, start=1):
            data = serializers.MeasurementInputSerializer(
                data=item, context=self.get_serializer_context()
            )
            if data.is_valid():
                rows.append(dict(data.validated_data))
            else:
                errors[f"row {number}"] = data.errors
        if errors:
            raise ValidationError(errors if many else errors["row 1"])
        for row in rows:
            self._require("add", row["cluster"])
        try:
            saved = services.measurements_submit(actor=request.user, rows=rows)
        except DjangoValidationError as exc:
            raise ValidationError(_row_errors(exc, many=many)) from exc
        by_pk = {m.pk: m for m in self.get_queryset().filter(pk__in=[m.pk for m in saved])}
        body = self.get_serializer([by_pk[m.pk] for m in saved], many=True).data
        return Response(body if many else body[0], status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.MeasurementUpdateSerializer,
        responses={200: serializers.MeasurementSerializer},
        description="Corrects the value; the submission time (and so lateness) stays.",
    )
    def partial_update(self, request, *args, **kwargs):
        measurement = self.get_object()
        self._require("change", measurement.cluster)
        data = serializers.MeasurementUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.measurement_update(
            actor=request.user, measurement=measurement, value=data.validated_data["value"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=measurement.pk)).data)


def _row_errors(exc: DjangoValidationError, *, many: bool) -> dict[str, Any]:
    """The service names the bad row (`row N`); its cause names the fields."""
    cause = exc.__cause__
    if isinstance(cause, DjangoValidationError):
        detail = validation_detail(cause)
    else:
        detail = {"non_field_errors": [str(m) for m in exc.messages]}
    if not many:
        return detail
    rows = getattr(exc, "error_dict", None) or {"row 1": None}
    return dict.fromkeys(rows, detail)


# Reports -------------------------------------------------------------------------------


def query_parameters(form_class: type[ReportQuery]) -> list[OpenApiParameter]:
    """A report's query parameters, from the form that reads them."""
    parameters = []
    for name, field in form_class.base_fields.items():
        if isinstance(field, StrictBooleanField):
            schema: dict[str, Any] = {"type": "boolean"}
        elif isinstance(field, PeriodFormField):
            schema = MONTH_SCHEMA
        elif isinstance(field, FiscalYearFormField):
            schema = FISCAL_YEAR_SCHEMA
        else:
            schema = {"type": "string"}
        parameters.append(
            OpenApiParameter(name, type=schema, description=str(field.help_text), allow_blank=True)
        )
    return parameters


PAGE_PARAMETERS = [
    OpenApiParameter(
        parameter["name"], type=parameter["schema"], description=parameter["description"]
    )
    for parameter in Pagination().get_schema_operation_parameters(None)
]
PAGE_PARAMETER_NAMES = {parameter.name for parameter in PAGE_PARAMETERS}


class ReportSchema(AutoSchema):
    """A report's query may be refused (400) even when its answer is not a plain list."""

    def error_codes(self) -> list[str]:
        return sorted({*super().error_codes(), "400"})

    def _process_override_parameters(self, direction="request"):
        parameters = super()._process_override_parameters(direction)
        for (name, location), parameter in parameters.items():
            if location == "query" and name not in PAGE_PARAMETER_NAMES:
                # An empty value (`?service=`) means "not filtered", as in the lists.
                parameter["allowEmptyValue"] = True
        return parameters


class ReportView(CSVUnpaginatedMixin, GenericAPIView):
    """A read-only report: the query is read by a form, rows come from a selector."""

    query_class: ClassVar[type[ReportQuery]]
    filter_backends: list = []  # the query is read by `query_class`, not django-filter
    schema = ReportSchema()

    @property
    def user(self) -> User:
        # Signed in: RolePermission lets no anonymous request reach a report.
        return cast(User, self.request.user)

    def read_query(self) -> ReportQuery:
        query = self.query_class(data=self.request.query_params)
        if not query.is_valid():
            raise ValidationError(
                {field: [str(m) for m in messages] for field, messages in query.errors.items()}
            )
        return query

    def rows(self, query: ReportQuery) -> list[dict[str, Any]]:
        raise NotImplementedError

    def respond(self, rows: list[dict[str, Any]]) -> Response:
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(self.get_serializer(rows, many=True).data)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get(self, request, *args, **kwargs):
        return self.respond(self.rows(self.read_query()))


def _pk(obj) -> int | None:
    return None if obj is None else obj.pk


def _member_clusters(user) -> list[int]:
    """The clusters the user's department belongs or belonged to (one query)."""
    return list(
        Membership.objects.filter(department_id=user.department_id).values_list(
            "cluster_id", flat=True
        )
    )


def _own_provider(user, provider) -> int | None:
    """A provider manager's provider, or None when the query names another one."""
    if provider is not None and provider.pk != user.provider_id:
        return None
    return user.provider_id


def _rate(met: int, total: int) -> Decimal | None:
    return None if not total else (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"))


class ClusterCostsReport(ReportView):
    """Per cluster and month: the cost pool, the usage units of the members active that
    month and the cost per unit. Department roles see the clusters their department
    belongs or belonged to; provider managers their provider's clusters."""

    query_class = ClusterCostsQuery
    serializer_class = serializers.ClusterCostRowSerializer

    @extend_schema(
        parameters=query_parameters(ClusterCostsQuery),
        responses=serializers.ClusterCostRowSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def rows(self, query):
        data = query.cleaned_data
        start, end = query.month_range()
        user = self.user
        kwargs: dict[str, Any] = {
            "start": start,
            "end": end,
            "service_id": _pk(data["service"]),
            "provider_id": _pk(data["provider"]),
            "cluster_id": _pk(data["cluster"]),
        }
        if user.reads_everything:
            return selectors.cluster_costs(**kwargs)
        if user.is_provider_manager:
            provider_id = _own_provider(user, data["provider"])
            if provider_id is None:
                return []
            return selectors.cluster_costs(**{**kwargs, "provider_id": provider_id})
        if user.acts_for_department:
            clusters = set(_member_clusters(user))
            return [r for r in selectors.cluster_costs(**kwargs) if r["cluster_id"] in clusters]
        return []


class ServiceLevelsReport(ReportView):
    """Per cluster, customer department and standard over the months asked for (every
    month when none are): returns met, returns received and the compliance rate, and
    whether the standard is in persistent breach (missed three or more months running in
    a run that reaches into those months). Rows are those of the returns you may see."""

    query_class = ServiceLevelsQuery
    serializer_class = serializers.ServiceLevelRowSerializer

    @extend_schema(
        parameters=query_parameters(ServiceLevelsQuery),
        responses=serializers.ServiceLevelRowSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def rows(self, query):
        data = query.cleaned_data
        start, end = query.month_range()
        user = self.user
        returns = Measurement.objects.visible_to(user).alias(met_flag=met_expression())
        if start is not None:
            returns = returns.filter(period__gte=start)
        if end is not None:
            returns = returns.filter(period__lt=end)
        for name, lookup in (
            ("provider", "cluster__provider"),
            ("service", "cluster__service"),
            ("department", "department"),
            ("cluster", "cluster"),
        ):
            if data[name] is not None:
                returns = returns.filter(**{lookup: data[name]})
        grouped = (
            returns.values("cluster_id", "department_id", "standard_id")
            .annotate(
                cluster_code=F("cluster__code"),
                provider_code=F("cluster__provider__code"),
                service_code=F("cluster__service__code"),
                department_code=F("department__code"),
                standard_name=F("standard__name"),
                met=Count("pk", filter=Q(met_flag=True)),
                total=Count("pk"),
            )
            .order_by("cluster_code", "department_code", "standard_name", "standard_id")
        )
        provider_id = _pk(data["provider"])
        if user.is_provider_manager:
            provider_id = user.provider_id
        breaches: dict[tuple[int, int, int], dict[str, Any]] = {}
        for breach in selectors.persistent_breaches(
            cluster_id=_pk(data["cluster"]),
            department_id=_pk(data["department"]),
            provider_id=provider_id,
        ):
            if (start is not None and breach["latest"] < start) or (
                end is not None and breach["started"] >= end
            ):
                continue
            key = (breach["standard_id"], breach["cluster_id"], breach["department_id"])
            breaches.setdefault(key, breach)  # the latest run first (ordered by `latest`)
        wanted = data["persistent_breach"]
        rows = []
        for row in grouped:
            breach = breaches.get((row["standard_id"], row["cluster_id"], row["department_id"]))
            if wanted is not None and wanted != (breach is not None):
                continue
            rows.append(
                {
                    "cluster": row["cluster_code"],
                    "provider": row["provider_code"],
                    "service": row["service_code"],
                    "department": row["department_code"],
                    "standard": row["standard_id"],
                    "standard_name": row["standard_name"],
                    "met": row["met"],
                    "total": row["total"],
                    "compliance_rate": _rate(row["met"], row["total"]),
                    "persistent_breach": breach is not None,
                    "breach_started": breach and breach["started"],
                    "breach_latest": breach and breach["latest"],
                    "breach_months": breach and breach["months"],
                    "breach_ongoing": breach and breach["ongoing"],
                }
            )
        return rows


class SelfPreferenceReport(ReportView):
    """Clusters whose provider's host department is a member: the host's compliance rate
    over six complete months against the other members'; `flagged` when the gap is more
    than 10 percentage points in the host's favour. Department roles see the clusters
    their department belongs or belonged to; provider managers their own provider's."""

    query_class = SelfPreferenceQuery
    serializer_class = serializers.SelfPreferenceRowSerializer

    @extend_schema(
        parameters=query_parameters(SelfPreferenceQuery),
        responses=serializers.SelfPreferenceRowSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def rows(self, query):
        data = query.cleaned_data
        user = self.user
        # The selector's window ends before the month of `as_of`; ours ends with it.
        as_of = next_month(data["as_of"]) if data["as_of"] else None
        kwargs: dict[str, Any] = {
            "as_of": as_of,
            "provider_id": _pk(data["provider"]),
            "service_id": _pk(data["service"]),
        }
        if user.reads_everything:
            return selectors.self_preference(**kwargs)
        if user.is_provider_manager:
            provider_id = _own_provider(user, data["provider"])
            if provider_id is None:
                return []
            return selectors.self_preference(**{**kwargs, "provider_id": provider_id})
        if user.acts_for_department:
            codes = set(
                Membership.objects.filter(department_id=user.department_id).values_list(
                    "cluster__code", flat=True
                )
            )
            return [r for r in selectors.self_preference(**kwargs) if r["cluster"] in codes]
        return []


def last_complete_fiscal_year(today: datetime.date | None = None) -> str:
    this_year = fiscal_year_of(today or timezone.localdate())
    return fiscal_year_of(previous_month(fiscal_year_bounds(this_year)[0]))


class BenefitsReport(ReportView):
    """Per membership (department and cluster) in a fiscal year (default: the last
    complete one): the baseline pro rata to the days of membership, what was charged and
    the benefit; with totals per cluster and per service, and `flagged` on a cluster whose
    benefit over the last complete fiscal year is negative. Department roles see their
    own department's memberships (the totals and flags are then of those alone); provider
    managers their own provider's clusters. CSV has the membership rows."""

    query_class = BenefitsQuery
    serializer_class = serializers.BenefitRowSerializer

    @extend_schema(
        parameters=query_parameters(BenefitsQuery) + PAGE_PARAMETERS,
        responses=serializers.BenefitsReportSerializer,
    )
    def get(self, request, *args, **kwargs):
        query = self.read_query()
        report = self.report(query)
        for row in report["members"]:
            row["cluster_flagged"] = report["flags"].get(row["cluster"], False)
        page = self.paginate_queryset(report["members"])
        if page is None:
            return Response(self.get_serializer(report["members"], many=True).data)
        body = self.get_paginated_response(self.get_serializer(page, many=True).data).data
        clusters = serializers.BenefitClusterSerializer(report["clusters"], many=True)
        services_ = serializers.BenefitServiceSerializer(report["services"], many=True)
        return Response(
            {
                **body,
                "fiscal_year": report["fiscal_year"],
                "last_complete_fiscal_year": report["last_complete_fiscal_year"],
                "clusters": clusters.data,
                "services": services_.data,
            }
        )

    def report(self, query) -> dict[str, Any]:
        data = query.cleaned_data
        user = self.user
        fiscal_year = data["fiscal_year"] or last_complete_fiscal_year()
        kwargs: dict[str, Any] = {
            "fiscal_year": fiscal_year,
            "service_id": _pk(data["service"]),
            "provider_id": _pk(data["provider"]),
            "department_id": _pk(data["department"]),
        }
        visible = True
        if user.reads_everything:
            pass
        elif user.is_provider_manager:
            kwargs["provider_id"] = _own_provider(user, data["provider"])
            visible = kwargs["provider_id"] is not None
        elif user.acts_for_department:
            department = data["department"]
            visible = department is None or department.pk == user.department_id
            kwargs["department_id"] = user.department_id
        else:
            visible = False
        if not visible:
            return {
                "fiscal_year": fiscal_year,
                "last_complete_fiscal_year": last_complete_fiscal_year(),
                "members": [],
                "clusters": [],
                "services": [],
                "flags": {},
            }
        result = selectors.benefits(**kwargs)
        result["flags"] = {row["cluster"]: row["flagged"] for row in result["clusters"]}
        return result


class AlternativesReport(ReportView):
    """For each current membership, the other clusters of the same service with room for
    its usage, with their current cost per unit and six-month compliance rate. Department
    roles: their own department's (the default; another department is a 403). Provider
    managers: those of the members of their own provider's clusters. Analysts and
    administrators: any department's, or every department's when none is named."""

    query_class = AlternativesQuery
    serializer_class = serializers.AlternativeRowSerializer

    @extend_schema(
        parameters=query_parameters(AlternativesQuery),
        responses=serializers.AlternativeRowSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def rows(self, query):
        data = query.cleaned_data
        user = self.user
        department = data["department"]
        kwargs: dict[str, Any] = {
            "department_id": _pk(department),
            "service_id": _pk(data["service"]),
            "provider_id": _pk(data["provider"]),
        }
        if user.reads_everything:
            return selectors.alternatives(**kwargs)
        if user.acts_for_department:
            if department is not None and department.pk != user.department_id:
                raise PermissionDenied(OWN_ALTERNATIVES)
            return selectors.alternatives(**{**kwargs, "department_id": user.department_id})
        if user.is_provider_manager:
            codes = set(
                Cluster.objects.filter(provider_id=user.provider_id).values_list("code", flat=True)
            )
            return [r for r in selectors.alternatives(**kwargs) if r["cluster"] in codes]
        return []
