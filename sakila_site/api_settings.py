"""The REST API's settings (DRF, drf-spectacular, drf-standardized-errors): plain
data, imported by ``settings``; the classes they name are in ``sakila_site.api``,
``sakila_site.problems`` and the apps' ``api`` modules."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sakila_site.api.ModelPermissions"],
    # JSON bodies only: one media type per operation in the schema, which is
    # what generated clients handle (the browsable API's forms post JSON too).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "sakila_site.renderers.BrowsableAPIRenderer",  # inline styles allowed on its pages
    ],
    "DEFAULT_PAGINATION_CLASS": "sakila_site.api.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "sakila_site.api.SearchFilter",
        "sakila_site.api.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "sakila_site.problems.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S",
}
# Errors as RFC 9457 problems (sakila_site/problems.py).
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "sakila_site.problems.ProblemHandler",
    "EXCEPTION_FORMATTER_CLASS": "sakila_site.problems.ProblemFormatter",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sakila Lake API",
    "DESCRIPTION": (
        "Films, customers, stores, inventory, rentals and payments of the Sakila "
        "DVD-rental business. Authenticate with `Authorization: Token <key>` "
        "(POST /api/v1/auth/token/) or a logged-in session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1: a nullable field is a type or null (3.0's ``nullable`` beside a
    # $ref is ambiguous, and Redocly's rules refuse it).
    "OAS_VERSION": "3.1.0",
    "SERVERS": [{"url": "/", "description": "This site"}],
    "LICENSE": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
    "PREPROCESSING_HOOKS": ["sakila_site.api.schema_v1_only"],
    "ENUM_NAME_OVERRIDES": {"RentalStatusEnum": "rentals.api.serializers.RENTAL_STATUSES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sakila_site.api.schema_conditional_get",
        "sakila_site.api.schema_open_operations",
    ],
}
