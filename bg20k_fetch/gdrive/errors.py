"""What Google Drive's refusals mean, each worded once."""

from __future__ import annotations

from bg20k_fetch.errors import HtmlInsteadOfData, SourceError
from bg20k_fetch.release import load_release


def quota_hint() -> str:
    baidu = next((s for s in load_release().sources if s.kind == "baidu"), None)
    where = f" ({baidu.url}, password {baidu.password})" if baidu and baidu.password else ""
    return (
        "Only waiting (often a day), another source (a mirror), or a copy downloaded in a "
        "browser helps: `bg20k fetch --from ~/Downloads/BG-20k-<time>-001.zip --from …-002.zip` "
        f"for the browser's zip parts, or `bg20k fetch --from PATH` for the Baidu copy{where}."
    )


class DriveQuotaError(SourceError):
    """Drive's "Quota exceeded" page: too many downloads of this one file recently."""

    def __init__(self, file_id: str) -> None:
        super().__init__(
            f"Google Drive says the download quota of file {file_id} is exceeded "
            "(too many users have downloaded it recently).",
            hint=quota_hint(),
        )


class DriveAccessError(SourceError):
    """Not shared publicly: Drive redirects to a sign-in page or says "You need access"."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Google Drive {what} is not shared publicly (Drive asks to sign in).",
            hint="Ask the owner to share it with 'anyone with the link', or use another source.",
        )


class DriveNotFound(SourceError):
    def __init__(self, what: str, item_id: str) -> None:
        super().__init__(
            f"Google Drive has no {what} with id {item_id} (404).",
            hint="Check the link, or use another --source.",
        )


def drive_page_instead_of_data(file_id: str, title: str) -> HtmlInsteadOfData:
    return HtmlInsteadOfData(
        f"Google Drive (file {file_id})",
        title,
        hint="Open the link in a browser to see what Drive says.",
    )


class DriveThrottled(SourceError):
    """Drive kept throttling (429, "automated queries", quota pages on every file) for longer
    than BG20K_THROTTLE_BUDGET allows."""

    def __init__(self, done: int, total: int, budget: float) -> None:
        super().__init__(
            f"Google Drive kept throttling this client for longer than BG20K_THROTTLE_BUDGET "
            f"({budget:g} s); {done} of {total} files are done and kept.",
            hint="Run the same command again later: it continues where it stopped. Ways "
            "through a block that lasts: --cookies FILE (cookies.txt from a browser where you "
            "are signed in to Google), a browser download of the folder (`bg20k fetch --from "
            "…-001.zip --from …-002.zip`), or the Baidu copy (`--from PATH`).",
        )
