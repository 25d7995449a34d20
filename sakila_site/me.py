"""``GET /api/v1/me/``: who a token (or session) is, across the apps: the login,
its role, the staff member and store its rentals and payments are recorded as,
and what it may do, so that a client need not know its store."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lake.panel.views import ADD_RUN, VIEW_RUNS
from rentals import selectors
from sakila_site.roles import ROLES, user_role

# What a login may do, by the permission each takes (reports: the lake's view permission).
MAY = {
    "rent": "rentals.add_rental",
    "return": "rentals.change_rental",
    "take_payments": "rentals.add_payment",
    "read_runs": VIEW_RUNS,
    "start_runs": ADD_RUN,
    "read_reports": VIEW_RUNS,
}


class MeStaffSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="staff_id")
    name = serializers.CharField(source="__str__")
    active = serializers.BooleanField()


class MeStoreSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="store_id")
    address = serializers.CharField(source="address.address")
    city = serializers.CharField(source="address.city.city")


class MeSerializer(serializers.Serializer):
    """Who a token or session is: the login, its role, and the staff member and
    store that rentals and payments it records are written as."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.ChoiceField(
        choices=ROLES,
        allow_null=True,
        help_text="The highest role the login has (Admin for a superuser); null: none.",
    )
    staff = MeStaffSerializer(allow_null=True, help_text="Null: the login rents nothing.")
    store = MeStoreSerializer(allow_null=True, help_text="The staff member's store.")
    may = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="What the login may do: rent, return, take_payments, read_runs, start_runs, "
        "read_reports.",
    )


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Who the token (or session) is", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        staff = selectors.staff_for_user(user)
        me = {
            "id": user.pk,
            "username": user.get_username(),
            "role": user_role(user),
            "staff": staff,
            "store": staff.store if staff else None,
            "may": {ability: user.has_perm(perm) for ability, perm in MAY.items()},
        }
        return Response(MeSerializer(me).data)
