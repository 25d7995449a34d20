"""The catalogue: films with their actors and categories, actors, categories,
languages, film_text, and the copies (inventory) of the films at the stores."""

from collections import defaultdict

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, prefetch_related_objects

from rentals.admin.formsets import CompositeKeyInlineFormSet
from rentals.admin.toolkit import IdSearchMixin, KeysFirstPaginator, SafeAutocompleteMixin, parse_id
from rentals.fields import CommaSeparatedSetField
from rentals.models import (
    Actor,
    Category,
    Film,
    FilmActor,
    FilmCategory,
    FilmText,
    Inventory,
    Language,
    Rental,
)


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ("language_id", "name", "last_update")
    search_fields = ("name",)


class FilmActorInline(SafeAutocompleteMixin, admin.TabularInline):
    """The actors of a film, on the film's page."""

    model = FilmActor
    formset = CompositeKeyInlineFormSet
    fields = ("actor",)
    autocomplete_fields = ("actor",)
    extra = 0


class ActorFilmInline(SafeAutocompleteMixin, admin.TabularInline):
    """The films of an actor, on the actor's page."""

    model = FilmActor
    formset = CompositeKeyInlineFormSet
    fields = ("film",)
    autocomplete_fields = ("film",)
    extra = 0
    verbose_name = "film"
    verbose_name_plural = "films"


class FilmCategoryInline(SafeAutocompleteMixin, admin.TabularInline):
    model = FilmCategory
    formset = CompositeKeyInlineFormSet
    fields = ("category",)
    autocomplete_fields = ("category",)
    extra = 0


@admin.register(Actor)
class ActorAdmin(IdSearchMixin, admin.ModelAdmin):
    list_display = ("actor_id", "first_name", "last_name", "last_update")
    search_fields = ("first_name", "last_name")
    ordering = ("last_name", "first_name")
    inlines = [ActorFilmInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("category_id", "name", "last_update")
    search_fields = ("name",)
    ordering = ("name",)


class FilmChangeList(ChangeList):
    """Adds each listed film's categories and copies per store: two queries per page.

    Copies, not free copies: counting open rentals per copy reads every rental
    of every listed copy (0.35 s on SQLite, seconds on MariaDB for a page of 100
    films with 1.6M rentals), so free copies are left to the desk.
    """

    def get_results(self, request):
        super().get_results(request)
        films = list(self.result_list)
        prefetch_related_objects(films, "categories")
        copies = (
            Inventory.objects.filter(film__in=[film.pk for film in films])
            .values_list("film_id", "store_id")
            .annotate(count=Count("pk"))
            .order_by("film_id", "store_id")
        )
        per_film: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for film_id, store_id, count in copies:
            per_film[film_id].append((store_id, count))
        for film in films:
            film.copies_per_store = per_film[film.pk]


@admin.register(Film)
class FilmAdmin(SafeAutocompleteMixin, IdSearchMixin, admin.ModelAdmin):
    list_display = (
        "film_id",
        "title",
        "release_year",
        "category_list",
        "rating",
        "rental_rate",
        "rental_duration",
        "length",
        "copies",
    )
    list_display_links = ("film_id", "title")
    list_select_related = ("language",)
    list_filter = ("rating", "categories", "rental_rate", "rental_duration", "language")
    search_fields = ("title",)
    search_help_text = "A film id, or part of a title."
    ordering = ("title",)
    autocomplete_fields = ("language", "original_language")
    formfield_overrides = {CommaSeparatedSetField: {"widget": forms.CheckboxSelectMultiple}}
    inlines = [FilmCategoryInline, FilmActorInline]
    fieldsets = [
        (None, {"fields": ("title", "description", "release_year")}),
        ("Language", {"fields": ("language", "original_language")}),
        (
            "Rental terms",
            {"fields": ("rental_duration", "rental_rate", "replacement_cost")},
        ),
        ("Details", {"fields": ("length", "rating", "special_features")}),
    ]

    def get_changelist(self, request, **kwargs):
        return FilmChangeList

    @admin.display(description="categories")
    def category_list(self, film: Film) -> str:
        return ", ".join(category.name for category in film.categories.all())

    @admin.display(description="copies")
    def copies(self, film: Film) -> str:
        stores = getattr(film, "copies_per_store", [])
        return " · ".join(f"Store {store}: {count}" for store, count in stores) or "none"

    def delete_queryset(self, request, queryset) -> None:
        # Film.delete also deletes the film's film_text row; QuerySet.delete would not.
        with transaction.atomic():
            for film in queryset:
                film.delete()


@admin.register(FilmText)
class FilmTextAdmin(admin.ModelAdmin):
    """film_text is a copy of film kept by Film.save: shown, never edited here."""

    list_display = ("film_id", "title")
    search_fields = ("title",)
    ordering = ("title",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Inventory)
class InventoryAdmin(SafeAutocompleteMixin, IdSearchMixin, admin.ModelAdmin):
    list_display = ("inventory_id", "film", "store", "is_out", "last_update")
    list_select_related = ("film", "store")
    list_filter = ("store",)
    search_fields = ("film__title",)
    search_help_text = "A copy id, or part of a film title."
    ordering = ("-inventory_id",)
    sortable_by = ("inventory_id",)
    paginator = KeysFirstPaginator
    autocomplete_fields = ("film", "store")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        # Computed for the listed rows only (a correlated EXISTS per row).
        return (
            super()
            .get_queryset(request)
            .annotate(out=Exists(Rental.objects.open().filter(inventory=OuterRef("pk"))))
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or parse_id(term) is not None:
            return super().get_search_results(request, queryset, term)
        films = Film.objects.filter(title__icontains=term).values("pk")
        return queryset.filter(film__in=films), False

    @admin.display(description="out", boolean=True)
    def is_out(self, copy: Inventory) -> bool:
        return copy.out
