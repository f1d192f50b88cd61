"""Servers for the social channels: a real Bluesky network and a Mastodon API server (tests/support/)."""

from tests.support.bluesky.fixtures import bluesky  # noqa: F401
from tests.support.mastodon.fixtures import mastodon  # noqa: F401
