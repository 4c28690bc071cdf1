"""Telling one file's quota from a block of the whole client.

Drive's "Too many users have viewed or downloaded this file recently" page means two things.
For one file downloaded too often it lasts hours, while every other file downloads fine: that
file is set aside and the rest go on. But Drive also answers it for *every* file once a client
has fetched a few dozen in a row, and lifts it minutes later (gdown's issue threads, 2025-2026):
then firing the remaining thousands of requests into it only prolongs it. The evidence:

- quota pages on two different files with no success in between → the client is blocked:
  every worker pauses together (growing waits, within BG20K_THROTTLE_BUDGET), one request is in
  flight at a time to probe, and the pages seen so far say nothing about those files;
- a file whose quota page comes back while other files keep succeeding → that file's own
  quota: asked again once at the end of the run, then set aside (after ``TRIES`` pages).
"""

from __future__ import annotations

import threading
from enum import Enum


class Verdict(Enum):
    BLOCKED = "the client is blocked"
    LATER = "ask again later"
    SET_ASIDE = "this file's own quota"


class QuotaWatch:
    TRIES = 3  # quota pages for one file before it is set aside whatever else happens

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since_success: set[str] = set()  # files that got a quota page since a success
        self._pages: dict[str, int] = {}  # per file, outside blocks
        self._successes = 0
        self._successes_at_first: dict[str, int] = {}
        self.blocks = 0  # quota pages that counted as a block of the whole client

    def success(self) -> None:
        with self._lock:
            self._successes += 1
            self._since_success.clear()

    def quota(self, path: str) -> Verdict:
        with self._lock:
            self._since_success.add(path)
            if len(self._since_success) >= 2:
                self.blocks += 1
                # What these files saw was the block, not their own quota: start them afresh.
                for name in self._since_success:
                    self._pages.pop(name, None)
                    self._successes_at_first.pop(name, None)
                return Verdict.BLOCKED
            pages = self._pages[path] = self._pages.get(path, 0) + 1
            first = self._successes_at_first.setdefault(path, self._successes)
            others_went_on = self._successes > first
            if pages >= self.TRIES or (pages >= 2 and others_went_on):
                return Verdict.SET_ASIDE
            return Verdict.LATER
