"""Moved to tests/support/browser.py; shim until the trust tests move."""

from tests.support.browser import Page, Traffic, chromium_page, find_chromium, poll

__all__ = ["Page", "Traffic", "chromium_page", "find_chromium", "poll"]
