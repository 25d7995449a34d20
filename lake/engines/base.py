"""What the orchestration needs of an ETL engine: start, read state, cancel."""

from abc import ABC, abstractmethod
from typing import ClassVar

from lake.models import PipelineRun


class Engine(ABC):
    """Runs pipeline runs somewhere.

    Engines that run in the worker (``runs_elsewhere = False``) return from
    ``start`` when the run has ended. Engines that run elsewhere (Glue)
    return once it started; the worker then calls ``refresh`` with backoff
    until the run is no longer active.
    """

    name: ClassVar[str]
    runs_elsewhere: ClassVar[bool] = False

    @abstractmethod
    def start(self, run: PipelineRun) -> None:
        """Start a queued run (and, for in-worker engines, run it to the end)."""

    @abstractmethod
    def refresh(self, run: PipelineRun) -> PipelineRun:
        """Read the run's state from the engine into the run and its steps."""

    @abstractmethod
    def cancel(self, run: PipelineRun) -> None:
        """Ask the engine to stop the run (``cancel_requested_at`` is already set)."""
