"""Resonanz: listen first, then react.

Kept free of imports so that ``resonanz.analysis`` can be used without Django or Celery.
"""
