"""Running a command's handler: how every way out of it becomes one line and an exit code.

Apart from parser.py so that the answers given without the parser
(quick.py) end exactly as the parsed commands do.
"""

from __future__ import annotations

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.errors import Bg20kError, ExitCode, Terminated
from bg20k_fetch.redact import redact

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    Handler = Callable[[argparse.Namespace, Ui], int]


def lazy(module: str, name: str) -> Handler:
    """A handler imported on use, so building the parser, or answering without it, imports no
    other command's dependencies (`bg20k cite` never loads requests, pydantic or archives)."""

    def run(args: argparse.Namespace, ui: Ui) -> int:
        import importlib

        handler: Handler = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return handler(args, ui)

    return run


def run_handler(handler: Handler, args: argparse.Namespace, ui: Ui) -> int:
    try:
        return handler(args, ui)
    except Bg20kError as exc:
        if args.debug:
            _traceback(ui)
        ui.error(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        ui.error("terminated." if terminated else "interrupted.")
        return int(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED)
    except Exception as exc:
        if args.debug:
            _traceback(ui)
        detail = redact(f"{type(exc).__name__}: {exc}")
        ui.error(f"internal error: {detail}. Rerun with --debug and report it.")
        return int(ExitCode.INTERNAL)


def _traceback(ui: Ui) -> None:
    import traceback  # only under --debug

    # Libraries quote the URLs they failed on, keys and signatures included: masked here too.
    ui.stderr.write(redact(traceback.format_exc()))


def output_written(ui: Ui, code: int) -> int:
    """A command whose output could not be written (a full disk under `bg20k cite > refs.bib`)
    has not succeeded, whatever its work did: exit 7 with one line. A reader that went away is
    not a failure (see GuardedStream)."""
    ui.stdout.flush()
    failure = getattr(ui.stdout, "failure", None)
    if code != 0 or failure is None:
        return code
    ui.error(
        f"Cannot write to standard output: {failure.strerror or failure}; what it received is "
        "incomplete. Free space where the output goes, or send it elsewhere."
    )
    return int(ExitCode.STORAGE)
