"""The `bg20k` command's entry point: signal handling first, everything else after.

A kill during start-up (a provisioning script's timeout, Ctrl-C) then ends as it would later —
one line and 130 or 143 — instead of a traceback from the middle of an import.
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # what provisioning scripts call most: nothing to load
        from bg20k_fetch._version import __version__

        sys.stdout.write(f"bg20k {__version__}\n")
        return
    from bg20k_fetch.errors import Terminated

    def terminated(signum: int, frame: object) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, terminated)
    try:
        from bg20k_fetch.cli.quick import answer

        code = answer(sys.argv[1:])  # `cite`, `agreement --sha256`, `status`: no parser
        if code is None:
            from bg20k_fetch.cli.parser import main as cli_main

            code = cli_main()  # it says how it stopped; a signal in its own imports lands here
    except KeyboardInterrupt as exc:
        stopped = isinstance(exc, Terminated)
        sys.stderr.write(f"bg20k: error: {'terminated' if stopped else 'interrupted'}.\n")
        sys.exit(143 if stopped else 130)
    # The command has finished and said how: a Ctrl-C while the interpreter shuts down must
    # not turn "BG-20k is ready" into a death by signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)
