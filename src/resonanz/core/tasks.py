"""Celery tasks of the core (found by Celery's autodiscovery): the pipeline sweep lives with the pipeline."""

from resonanz.core.pipeline import process_pending

__all__ = ["process_pending"]
