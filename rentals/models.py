"""The Sakila rental database (OLTP), mapped onto MySQL's official schema.

Tables and columns keep the names of MySQL's ``sakila-schema.sql`` so that an
existing Sakila database works after ``migrate --fake-initial``. What differs
from that file, on purpose:

- ids are INT in our own migrations (the original SMALLINT/TINYINT ids are too
  narrow for a growing business); a database with the narrow ids still works,
  refuses new rows clearly when they run out, and ``widen_ids`` widens them
  (``rentals/limits.py``);
- ``last_update`` is maintained by the ORM (``LastUpdateField``) and indexed,
  rather than by ``ON UPDATE CURRENT_TIMESTAMP``;
- the views, stored procedures and the film_text/rental/payment triggers are
  not created; ``Film.save`` keeps film_text in step instead.

Every other column validates the official width or range (VARCHAR lengths,
TINYINT UNSIGNED, TEXT's 65,535 bytes...): tests/rentals/test_column_limits.py
walks the fields against the official DDL.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rentals import limits
from rentals.fields import CommaSeparatedSetField, FixedCharField, LastUpdateField, YearField

# TEXT holds 65,535 bytes.
TEXT_BYTES = limits.MaxBytesValidator(limits.TEXT_MAX_BYTES)


class SakilaQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # QuerySet.update skips Field.pre_save; the ETL still needs last_update.
        kwargs.setdefault("last_update", timezone.now())
        return super().update(**kwargs)


class SakilaModel(models.Model):
    """Base of the Sakila tables: each declares its own ``last_update`` last,
    so that columns keep MySQL's order."""

    objects = SakilaQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        """A new row whose id would not fit its (narrow) id column is refused here,
        so the admin's add forms say why instead of failing on the insert."""
        super().clean()
        if self._state.adding and isinstance(self._meta.pk, models.AutoField):
            limits.next_id_check(type(self), what=str(self._meta.verbose_name))


def last_update_index(table: str) -> models.Index:
    return models.Index(fields=["last_update"], name=f"idx_{table}_last_update")


class Language(SakilaModel):
    language_id = models.AutoField(primary_key=True)
    name = FixedCharField(max_length=20)
    last_update = LastUpdateField()

    class Meta:
        db_table = "language"
        indexes = [last_update_index("language")]

    def __str__(self) -> str:
        return self.name.strip()


class Country(SakilaModel):
    country_id = models.AutoField(primary_key=True)
    country = models.CharField(max_length=50)
    last_update = LastUpdateField()

    class Meta:
        db_table = "country"
        verbose_name_plural = "countries"
        indexes = [last_update_index("country")]

    def __str__(self) -> str:
        return self.country


class City(SakilaModel):
    city_id = models.AutoField(primary_key=True)
    city = models.CharField(max_length=50)
    country = models.ForeignKey(Country, models.PROTECT, related_name="cities")
    last_update = LastUpdateField()

    class Meta:
        db_table = "city"
        verbose_name_plural = "cities"
        indexes = [last_update_index("city")]

    def __str__(self) -> str:
        return self.city


class Address(SakilaModel):
    address_id = models.AutoField(primary_key=True)
    address = models.CharField(max_length=50)
    address2 = models.CharField(max_length=50, null=True, blank=True)
    district = models.CharField(max_length=20)
    city = models.ForeignKey(City, models.PROTECT, related_name="addresses")
    postal_code = models.CharField(max_length=10, null=True, blank=True)
    phone = models.CharField(max_length=20)
    last_update = LastUpdateField()

    class Meta:
        db_table = "address"
        verbose_name_plural = "addresses"
        indexes = [last_update_index("address")]

    def __str__(self) -> str:
        return self.address


class Actor(SakilaModel):
    actor_id = models.AutoField(primary_key=True)
    first_name = models.CharField(max_length=45)
    last_name = models.CharField(max_length=45)
    last_update = LastUpdateField()

    class Meta:
        db_table = "actor"
        indexes = [
            models.Index(fields=["last_name"], name="idx_actor_last_name"),
            last_update_index("actor"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Category(SakilaModel):
    category_id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=25)
    last_update = LastUpdateField()

    class Meta:
        db_table = "category"
        verbose_name_plural = "categories"
        indexes = [last_update_index("category")]

    def __str__(self) -> str:
        return self.name


class Film(SakilaModel):
    class Rating(models.TextChoices):
        # Labels as printed on the box: without one, Django derives "Pg" from the name.
        G = "G", "G"
        PG = "PG", "PG"
        PG_13 = "PG-13", "PG-13"
        R = "R", "R"
        NC_17 = "NC-17", "NC-17"

    SPECIAL_FEATURES = ("Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes")

    film_id = models.AutoField(primary_key=True)
    title = models.CharField(max_length=128)
    description = models.TextField(null=True, blank=True, validators=[TEXT_BYTES])
    release_year = YearField(null=True, blank=True)
    language = models.ForeignKey(Language, models.PROTECT, related_name="films")
    original_language = models.ForeignKey(
        Language, models.PROTECT, null=True, blank=True, related_name="original_language_films"
    )
    rental_duration = models.PositiveSmallIntegerField(
        default=3, db_default=3, validators=[MaxValueValidator(limits.TINYINT_UNSIGNED_MAX)]
    )
    rental_rate = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("4.99"),
        db_default=Decimal("4.99"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    length = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(limits.SMALLINT_UNSIGNED_MAX)]
    )
    replacement_cost = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("19.99"),
        db_default=Decimal("19.99"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    rating = models.CharField(
        max_length=5, choices=Rating.choices, null=True, blank=True, default="G", db_default="G"
    )
    special_features = CommaSeparatedSetField(options=SPECIAL_FEATURES, null=True, blank=True)
    actors = models.ManyToManyField(Actor, through="FilmActor", related_name="films")
    categories = models.ManyToManyField(Category, through="FilmCategory", related_name="films")
    last_update = LastUpdateField()

    class Meta:
        db_table = "film"
        indexes = [
            models.Index(fields=["title"], name="idx_film_title"),
            last_update_index("film"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__in=["G", "PG", "PG-13", "R", "NC-17"])
                | models.Q(rating__isnull=True),
                name="film_rating_valid",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # film_text mirrors film (MySQL's schema does it with triggers).
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            FilmText.objects.using(self._state.db).update_or_create(
                film_id=self.pk, defaults={"title": self.title, "description": self.description}
            )

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            film_id = self.pk
            result = super().delete(*args, **kwargs)
            FilmText.objects.using(self._state.db).filter(film_id=film_id).delete()
        return result


class FilmActor(SakilaModel):
    pk = models.CompositePrimaryKey("actor_id", "film_id")
    actor = models.ForeignKey(Actor, models.PROTECT)
    film = models.ForeignKey(Film, models.CASCADE)
    last_update = LastUpdateField()

    class Meta:
        db_table = "film_actor"
        indexes = [last_update_index("film_actor")]

    def __str__(self) -> str:
        return f"{self.actor_id} in {self.film_id}"


class FilmCategory(SakilaModel):
    pk = models.CompositePrimaryKey("film_id", "category_id")
    film = models.ForeignKey(Film, models.CASCADE)
    category = models.ForeignKey(Category, models.PROTECT)
    last_update = LastUpdateField()

    class Meta:
        db_table = "film_category"
        verbose_name_plural = "film categories"
        indexes = [last_update_index("film_category")]

    def __str__(self) -> str:
        return f"{self.film_id} in {self.category_id}"


class FilmText(models.Model):
    """A copy of each film's title and description (for full-text search on MySQL)."""

    film_id = models.IntegerField(primary_key=True)
    title = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True, validators=[TEXT_BYTES])

    class Meta:
        db_table = "film_text"

    def __str__(self) -> str:
        return self.title


class Staff(SakilaModel):
    staff_id = models.AutoField(primary_key=True)
    first_name = models.CharField(max_length=45)
    last_name = models.CharField(max_length=45)
    address = models.ForeignKey(Address, models.PROTECT, related_name="staff")
    picture = models.BinaryField(null=True, blank=True, max_length=limits.TEXT_MAX_BYTES)  # BLOB
    email = models.CharField(max_length=50, null=True, blank=True)
    # staff -> store -> staff (manager) is a cycle: loaders insert one side first.
    store = models.ForeignKey("Store", models.PROTECT, related_name="staff")
    active = models.BooleanField(default=True, db_default=True)
    username = models.CharField(max_length=16)
    password = models.CharField(max_length=40, null=True, blank=True)
    last_update = LastUpdateField()

    class Meta:
        db_table = "staff"
        verbose_name_plural = "staff"
        indexes = [last_update_index("staff")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Store(SakilaModel):
    store_id = models.AutoField(primary_key=True)
    manager_staff = models.OneToOneField(Staff, models.PROTECT, related_name="managed_store")
    address = models.ForeignKey(Address, models.PROTECT, related_name="stores")
    last_update = LastUpdateField()

    class Meta:
        db_table = "store"
        indexes = [last_update_index("store")]

    def __str__(self) -> str:
        return f"Store {self.store_id}"


class InventoryQuerySet(SakilaQuerySet):
    def out(self) -> "InventoryQuerySet":
        """Copies that are rented out: they have a rental with no return date."""
        return self.filter(Exists(Rental.objects.open().filter(inventory=OuterRef("pk"))))

    def free(self, at: datetime | None = None) -> "InventoryQuerySet":
        """Copies on the shelf, ready to rent.

        With ``at`` (a backdated rental), also free since then: no rental of
        the copy started after ``at`` or was returned after it. A rental
        holds its copy from its rental date up to, not including, its return
        date, so a copy returned at ``at`` is free at ``at`` (dates are kept
        to the second: a copy returned and rented again within one second).
        """
        busy = Rental.objects.filter(inventory=OuterRef("pk"))
        if at is None:
            busy = busy.open()
        else:
            busy = busy.filter(
                Q(return_date__isnull=True) | Q(return_date__gt=at) | Q(rental_date__gt=at)
            )
        return self.exclude(Exists(busy))


class Inventory(SakilaModel):
    """One physical copy of a film at a store."""

    inventory_id = models.AutoField(primary_key=True)
    film = models.ForeignKey(Film, models.PROTECT, related_name="inventory")
    store = models.ForeignKey(Store, models.PROTECT, related_name="inventory")
    last_update = LastUpdateField()

    objects = InventoryQuerySet.as_manager()

    class Meta:
        db_table = "inventory"
        verbose_name_plural = "inventory"
        indexes = [
            models.Index(fields=["store", "film"], name="idx_store_id_film_id"),
            last_update_index("inventory"),
        ]

    def __str__(self) -> str:
        return f"Copy {self.inventory_id}"


class Customer(SakilaModel):
    customer_id = models.AutoField(primary_key=True)
    store = models.ForeignKey(Store, models.PROTECT, related_name="customers")
    first_name = models.CharField(max_length=45)
    last_name = models.CharField(max_length=45)
    email = models.CharField(max_length=50, null=True, blank=True)
    address = models.ForeignKey(Address, models.PROTECT, related_name="customers")
    active = models.BooleanField(default=True, db_default=True)
    create_date = models.DateTimeField(default=timezone.now)
    last_update = LastUpdateField(null=True)

    class Meta:
        db_table = "customer"
        indexes = [
            models.Index(fields=["last_name"], name="idx_customer_last_name"),
            last_update_index("customer"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class RentalQuerySet(SakilaQuerySet):
    def open(self) -> "RentalQuerySet":
        """Rentals not returned yet."""
        return self.filter(return_date__isnull=True)

    def overdue(self, as_of: datetime | None = None) -> "RentalQuerySet":
        """Rentals out past their due date at ``as_of`` (now): a late fee accrues.

        Late means calendar days (MySQL's TO_DAYS, as ``pricing.days_late``):
        the rental date's day is before ``as_of``'s day minus the film's
        rental duration. One condition per duration in use (a handful), each
        a range on rental_date, so the database filters without arithmetic.
        """
        today = (as_of or datetime.now()).replace(hour=0, minute=0, second=0, microsecond=0)
        durations = Film.objects.values_list("rental_duration", flat=True).distinct()
        late = Q(pk__in=[])
        for duration in durations.order_by("rental_duration"):
            late |= Q(
                inventory__film__rental_duration=duration,
                rental_date__lt=today - timedelta(days=duration),
            )
        return self.open().filter(late)


class Rental(SakilaModel):
    rental_id = models.AutoField(primary_key=True)
    rental_date = models.DateTimeField()
    inventory = models.ForeignKey(Inventory, models.PROTECT, related_name="rentals")
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="rentals")
    return_date = models.DateTimeField(null=True, blank=True)
    staff = models.ForeignKey(Staff, models.PROTECT, related_name="rentals")
    last_update = LastUpdateField()

    objects = RentalQuerySet.as_manager()

    class Meta:
        db_table = "rental"
        indexes = [
            last_update_index("rental"),
            # Whether a copy is out, and which rentals are open, without a scan.
            models.Index(fields=["inventory", "return_date"], name="idx_rental_inventory_return"),
            models.Index(fields=["return_date"], name="idx_rental_return_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rental_date", "inventory", "customer"],
                name="rental_date_inventory_customer",
            )
        ]

    def __str__(self) -> str:
        return f"Rental {self.rental_id}"

    @property
    def due_date(self) -> datetime:
        return self.rental_date + timedelta(days=self.inventory.film.rental_duration)


class Payment(SakilaModel):
    payment_id = models.AutoField(primary_key=True)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="payments")
    staff = models.ForeignKey(Staff, models.PROTECT, related_name="payments")
    rental = models.ForeignKey(
        Rental, models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    # Money received: never negative (the desk and the API ask for at least $0.01;
    # Sakila's own data has a few payments of $0.00).
    amount = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    payment_date = models.DateTimeField()
    last_update = LastUpdateField(null=True)

    class Meta:
        db_table = "payment"
        indexes = [
            last_update_index("payment"),
            models.Index(fields=["payment_date"], name="idx_payment_date"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.payment_id}"


# Load order that satisfies the foreign keys (staff before store: a cycle).
SAKILA_MODELS: tuple[type[models.Model], ...] = (
    Language,
    Country,
    City,
    Address,
    Actor,
    Category,
    Film,
    FilmActor,
    FilmCategory,
    FilmText,
    Staff,
    Store,
    Inventory,
    Customer,
    Rental,
    Payment,
)


class StaffProfile(models.Model):
    """Links a Django user (who logs in) to the Sakila staff row they work as.

    Not a Sakila table: Django users are not Sakila staff. Rentals and payments
    are recorded with the logged-in user's staff and that staff's store.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="staff_profile"
    )
    # No database constraint: on a database made by MySQL's own DDL, staff_id
    # is TINYINT UNSIGNED and an INT column may not reference it.
    staff = models.OneToOneField(Staff, models.PROTECT, related_name="profile", db_constraint=False)

    def __str__(self) -> str:
        return f"{self.user} works as {self.staff}"
