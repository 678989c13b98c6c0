"""The service-levels API: providers' returns (`measurements/`) and the five reports.

Measurements: everyone signed in reads what `Measurement.objects.visible_to` lets them see;
the provider's managers (for their own provider's clusters) and administrators submit one
return or a list of them at once (all or nothing) and correct a value (PATCH).

Reports (`reports/...`, GET only, JSON or `?format=csv`) are computed by the selectors in a
fixed number of queries. Rows come as the other lists do (`count`, `next`, `previous`,
`results`; CSV whole). Which rows each reader gets comes from the gate
(`servicelevels/rules.py`, `Measurement.objects.visible_to`), never from a role here:

- cluster costs: cluster prices are public to every signed-in user;
- service levels: the rows of the returns you may see;
- self-preference: the clusters whose members' usage you see (their provider's managers,
  current members, analysts and administrators);
- benefits: a department's baseline and benefit are its private figures, so membership
  rows are your own department's (every one for analysts and administrators); totals are
  over every member, withheld from a department unless at least three departments
  contribute or the total is its own alone;
- make or buy: a department's make_cost and buy_cost are its private figures, so rows are
  your own department's (every one for analysts and administrators); the quarterly series
  is over every department, each quarter withheld from a department unless at least three
  departments make it or it is its own alone;
- alternatives: those of the memberships whose options you see (your department's; your
  provider's clusters' members; every one for analysts and administrators). Naming another
  department than your own as a department's person is a 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
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
    QUARTER_SCHEMA,
    AlternativesQuery,
    BenefitsQuery,
    ClusterCostsQuery,
    MakeOrBuyQuery,
    MeasurementFilter,
    QuarterFormField,
    ReportQuery,
    SelfPreferenceQuery,
    ServiceLevelsQuery,
)
from servicelevels.models import Measurement, met_expression
from servicelevels.rules import (
    alternatives_condition,
    benefits_seen_by,
    make_or_buy_seen_by,
    member_clusters_condition,
)
from sharedsvc.api.exceptions import validation_detail
from sharedsvc.api.fields import FiscalYearFormField, PeriodFormField
from sharedsvc.api.filters import StrictBooleanField
from sharedsvc.api.pagination import Pagination
from sharedsvc.api.schema import AutoSchema
from sharedsvc.api.views import CSVUnpaginatedMixin
from sharedsvc.models import User
from sharedsvc.periods import (
    last_complete_fiscal_year,
    next_month,
)

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
    def create(self, request, *args, **kwargs) -> Response:
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
        elif isinstance(field, QuarterFormField):
            schema = QUARTER_SCHEMA
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


def _rate(met: int, total: int) -> Decimal | None:
    return None if not total else (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"))


class ClusterCostsReport(ReportView):
    """Per cluster and month: the cost pool, the usage units of the members active that
    month and the cost per unit. Cluster prices are public to every signed-in user (they
    are what makes leaving plausible)."""

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
        return selectors.cluster_costs(
            start=start,
            end=end,
            service_id=_pk(data["service"]),
            provider_id=_pk(data["provider"]),
            cluster_id=_pk(data["cluster"]),
        )


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

    def rows(self, query: ReportQuery) -> list[dict[str, Any]]:
        assert isinstance(query, ServiceLevelsQuery)  # the query_class
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
        grouped = selectors.returns_by_standard(
            returns.values("cluster_id", "department_id", "standard_id").annotate(
                met=Count("pk", filter=Q(met_flag=True)), total=Count("pk")
            )
        )
        breaches: dict[tuple[int, int, int], dict[str, Any]] = {}
        for run in selectors.persistent_breaches(
            cluster_id=_pk(data["cluster"]),
            department_id=_pk(data["department"]),
            provider_id=_pk(data["provider"]),
        ):
            if (start is not None and run["latest"] < start) or (
                end is not None and run["started"] >= end
            ):
                continue
            key = (run["standard_id"], run["cluster_id"], run["department_id"])
            breaches.setdefault(key, run)  # the latest run first (ordered by `latest`)
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
    than 10 percentage points in the host's favour. Rows of the clusters whose members'
    usage you see: their provider's managers, current members, analysts, administrators."""

    query_class = SelfPreferenceQuery
    serializer_class = serializers.SelfPreferenceRowSerializer

    @extend_schema(
        parameters=query_parameters(SelfPreferenceQuery),
        responses=serializers.SelfPreferenceRowSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def rows(self, query: ReportQuery) -> list[dict[str, Any]]:
        data = query.cleaned_data
        user = self.user
        # The selector's window ends before the month of `as_of`; ours ends with it.
        as_of = next_month(data["as_of"]) if data["as_of"] else None
        kwargs: dict[str, Any] = {
            "as_of": as_of,
            "provider_id": _pk(data["provider"]),
            "service_id": _pk(data["service"]),
        }
        # The gate's clusters are read in the report's own query.
        seen = Cluster.objects.filter(member_clusters_condition(user, cluster=""))
        return selectors.self_preference(**kwargs, clusters=seen)


class BenefitsReport(ReportView):
    """Per membership (department and cluster) in a fiscal year (default: the last
    complete one): the baseline pro rata to the days of membership, what was charged and
    the benefit; with totals per cluster and per service, and `flagged` on a cluster whose
    benefit over the last complete fiscal year is negative. A department's baseline and
    benefit are its own: membership rows are your department's (every one for analysts
    and administrators). A total over other departments' figures is withheld (null, with
    `withheld` saying why) unless at least three departments contribute to it. CSV has the
    membership rows."""

    query_class = BenefitsQuery
    serializer_class = serializers.BenefitRowSerializer

    @extend_schema(
        parameters=query_parameters(BenefitsQuery) + PAGE_PARAMETERS,
        responses=serializers.BenefitsReportSerializer,
    )
    def get(self, request, *args, **kwargs):
        query = self.read_query()
        report = self.report(query)
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
        today = timezone.localdate()
        report = selectors.benefits(
            fiscal_year=data["fiscal_year"] or last_complete_fiscal_year(today),
            service_id=_pk(data["service"]),
            provider_id=_pk(data["provider"]),
            department_id=_pk(data["department"]),
            today=today,
        )
        return benefits_seen_by(self.user, report)


class AlternativesReport(ReportView):
    """For each current membership, the other clusters of the same service with room for
    its usage, with their current cost per unit and six-month compliance rate: those of the
    memberships whose options you see (`servicelevels.rules.alternatives_condition`): your
    department's (naming another department is a 403), your provider's clusters' members,
    or every one for analysts and administrators."""

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
        if not user.has_perm("servicelevels.view_alternatives", department):
            raise PermissionDenied(OWN_ALTERNATIVES)
        seen = set(
            Membership.objects.filter(alternatives_condition(user)).values_list("pk", flat=True)
        )
        rows = selectors.alternatives(
            department_id=_pk(department),
            service_id=_pk(data["service"]),
            provider_id=_pk(data["provider"]),
        )
        return [r for r in rows if r["membership_id"] in seen]


class MakeOrBuyReport(ReportView):
    """Make or buy, per department and service (its current membership): `make_cost` (the
    newest in-house estimate dated on or before today, else the membership's baseline),
    `buy_cost` (its charges for the service over the last 12 complete months),
    `best_alternative` (the cheapest other cluster of the service with room, at its latest
    cost per unit times the department's usage times 12), `difference` (make - buy) and
    `cheaper`. A department's own figures: rows are your department's (every one for
    analysts and administrators).

    `quarters`, on every page: the creep back to making, per fiscal quarter (by default the
    last eight, today's the last): the usage units bought from clusters and made in-house
    (departments gone in-house and not back), the share bought, and the exits to in-house
    that took effect. A quarter is withheld (null, with `withheld` saying why) from a
    department unless at least three departments make it or it is its own alone. The
    `department` and `service` filters narrow both. CSV has the rows."""

    query_class = MakeOrBuyQuery
    serializer_class = serializers.MakeOrBuyRowSerializer

    @extend_schema(
        parameters=query_parameters(MakeOrBuyQuery) + PAGE_PARAMETERS,
        responses=serializers.MakeOrBuyReportSerializer,
    )
    def get(self, request, *args, **kwargs):
        report = self.report(self.read_query())
        page = self.paginate_queryset(report["rows"])
        if page is None:
            return Response(self.get_serializer(report["rows"], many=True).data)
        body = self.get_paginated_response(self.get_serializer(page, many=True).data).data
        quarters = serializers.MakeOrBuyQuarterSerializer(report["quarters"], many=True)
        return Response({**body, "quarters": quarters.data})

    def report(self, query) -> dict[str, Any]:
        assert isinstance(query, MakeOrBuyQuery)  # the query_class
        data = query.cleaned_data
        start, end = query.quarter_range()
        department_id, service_id = _pk(data["department"]), _pk(data["service"])
        return make_or_buy_seen_by(
            self.user,
            selectors.make_or_buy(
                department_id=department_id, service_id=service_id, today=query.today
            ),
            selectors.make_or_buy_quarters(
                start=start,
                end=end,
                department_id=department_id,
                service_id=service_id,
                today=query.today,
            ),
        )
