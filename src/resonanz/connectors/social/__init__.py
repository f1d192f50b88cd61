"""Clients for the open social networks (Mastodon-compatible servers, Bluesky) and the reply splitter.

Plain Python over HTTP: no Django models and no imports from other Resonanz apps, so the channel drivers
(connectors/drivers/) stay thin and these modules can be tested against real or documented servers alone.
Everything a network returns comes back as plain dataclasses (models.py) with the raw JSON kept beside the
parsed fields; failures come back as the typed errors in errors.py.
"""
