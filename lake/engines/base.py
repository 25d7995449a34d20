"""What the orchestration needs of an ETL engine: start, read state, cancel,
resume, and where the engines' lakes differ (who maintains the tables, where
raw increments and crawled tables live, how often desk activity may start a run).

Everything that differs between engines is a method or attribute here: the
rest of the app never asks which engine it runs on.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from lake.models import CrawledTable, PipelineRun
from lake.pipeline.raw_retention import RawRetention


class EngineUnavailable(Exception):
    """The engine cannot run here (the message says what is missing and how to fix it)."""


class CannotResume(Exception):
    """The run cannot be resumed (the message says why, and what to do instead)."""


@dataclass(frozen=True)
class ResumePoint:
    """Where a resume of an ended run starts: the steps that did not succeed
    (they run again, with everything after them), in the engine's terms too."""

    steps: tuple[str, ...]  # step names, in run order: ("marts",)
    node_ids: tuple[str, ...]  # the engine's ids of those steps
    detail: dict[str, Any] = field(default_factory=dict)  # what the engine read of the run


class Engine(ABC):
    """Runs pipeline runs somewhere.

    Engines that run in the worker (``runs_elsewhere = False``) return from
    ``start`` when the run has ended. Engines that run elsewhere (Glue)
    return once it started; the worker then calls ``refresh`` with backoff
    until the run is no longer active.
    """

    name: ClassVar[str]
    title: ClassVar[str]  # as people read it: "Glue", "local"
    runs_elsewhere: ClassVar[bool] = False
    # Whether a failed run can go on from the step that failed (Glue's workflow runs can).
    can_resume: ClassVar[bool] = False
    # Who compacts and expires the lake's tables when not a maintenance run
    # (a sentence the run's step shows); None: maintenance runs do it.
    tables_maintained_by: ClassVar[str | None] = None

    # Whether ``start`` takes ``as_of`` (a run's clock other than when it starts).
    takes_as_of: ClassVar[bool] = True

    def check_available(self) -> None:
        """``EngineUnavailable`` when the engine cannot run here (what it needs
        is not installed); checked before a run is made where someone waits."""
        return None

    @abstractmethod
    def start(self, run: PipelineRun, *, as_of: datetime | None = None) -> None:
        """Start a queued run (and, for in-worker engines, run it to the end).
        ``as_of``: the time late fees of open rentals accrue to (default: the
        run's own clock)."""

    @abstractmethod
    def refresh(self, run: PipelineRun) -> PipelineRun:
        """Read the run's state from the engine into the run and its steps."""

    @abstractmethod
    def cancel(self, run: PipelineRun) -> None:
        """Ask the engine to stop the run (``cancel_requested_at`` is already set)."""

    # --- The engine's lake ------------------------------------------------------------------

    @abstractmethod
    def raw_retention(self, before_run: int, *, dry_run: bool) -> RawRetention:
        """Delete the raw increments of runs before ``before_run`` (and the
        crawled partitions that name them)."""

    @abstractmethod
    def crawled_tables(self, *, name: str | None = None) -> list[CrawledTable]:
        """The raw zone as the crawler that runs with this engine found it, by
        name (only ``name`` if given)."""

    def refresh_not_before(self, last_run_created: datetime) -> datetime | None:
        """When desk activity may start the next run, given when the last run
        of any kind was created (None: at once, after the debounce)."""
        return None

    # --- Resume (engines that cannot resume keep these defaults) --------------------------

    def resume_step(self, run: PipelineRun) -> str | None:
        """The step a resume of the ended run would start from, as its recorded
        steps tell (without asking the engine); None if there is none."""
        return None

    def resume_point(self, run: PipelineRun) -> ResumePoint:
        """Read the ended run on the engine: where a resume would start.

        ``CannotResume`` if the run has not ended there, nothing of it failed,
        or the engine could not be read.
        """
        raise CannotResume(f"The {self.name} engine cannot resume a run: retry it instead.")

    def resume(self, run: PipelineRun, resumed: PipelineRun, point: ResumePoint) -> None:
        """Start the queued run ``resumed`` by resuming ``run`` from ``point``;
        an error the engine answers fails ``resumed`` with its message."""
        raise CannotResume(f"The {self.name} engine cannot resume a run: retry it instead.")
