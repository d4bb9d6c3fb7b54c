"""The errors a data source raises: both end a run with exit 2 and the message."""

from __future__ import annotations


class DiscoveryError(Exception):
    """A PATH cannot be linted at all: the CLI exits 2 with this message."""


class DvcError(Exception):
    """DVC could not answer (not installed, no remote, object missing); the message says why."""
