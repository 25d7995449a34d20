# The API tests' fixtures, for the tests of the API's site-wide policies here.
from tests.rentals.api.conftest import clerk_api, customer, film  # noqa: F401
