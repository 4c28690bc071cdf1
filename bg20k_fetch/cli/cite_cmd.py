"""`bg20k cite`."""

from __future__ import annotations

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.errors import StorageError
from bg20k_fetch.util.shipped import quick_citation

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    import argparse  # the parser is not loaded for the commands quick.py answers

    from bg20k_fetch.release import Reference, Release


def cmd_cite(args: argparse.Namespace, ui: Ui) -> int:
    to_stdout = args.output in (None, "-")
    if to_stdout:
        # Precompiled from the description in use (citing/precompiled.py): no validation or
        # rendering to load for what a script asks for most.
        quick = quick_citation(args.format, args.all, args.explain)
        if quick is not None:
            ui.raw(quick)
            return 0
    from bg20k_fetch.citing.references import render, select
    from bg20k_fetch.release import load_release

    release = load_release()
    refs = select(release, include_encouraged=args.all)
    if to_stdout:
        ui.raw(render(refs, release, args.format, explain=args.explain))
        return 0
    return _to_file(args, ui, refs, release)


def _to_file(args: argparse.Namespace, ui: Ui, refs: list[Reference], release: Release) -> int:
    from bg20k_fetch.citing.references import merge_into_bib, render
    from bg20k_fetch.util.fs import OUTPUT_HINT, atomic_write, output_target
    from bg20k_fetch.util.userpath import user_path

    path = user_path(args.output, "-o")
    if path.is_symlink():
        try:
            path = path.resolve(strict=True)  # write the file the link names; it stays a link
        except (OSError, RuntimeError) as exc:
            raise StorageError(f"Cannot follow the link {path}: {exc}.") from exc
    bibtex = args.format in ("bibtex", "biblatex")
    if bibtex and path.suffix.lower() == ".bib" and path.exists():
        # A bibliography only ever gains entries; the user's own are never rewritten.
        mode = output_target(path, replace=True)
        try:
            added = merge_into_bib(path, refs, release, args.format, mode=mode)
        except ValueError as exc:
            raise StorageError(
                f"Cannot add to {path}: {exc}; it was left as it is.",
                hint="Fix the file, or write the entries elsewhere with -o.",
            ) from exc
        kept = len(refs) - len(added)
        ui.info(
            f"Added {', '.join(added) or 'nothing'} to {path}"
            + (f"; {kept} already there, left alone." if kept else ".")
        )
        return 0
    mode = output_target(path, replace=args.force)
    data = render(refs, release, args.format, explain=args.explain).encode("utf-8")
    atomic_write(
        path, data, mode=mode if mode is not None else 0o644, make_parents=False, hint=OUTPUT_HINT
    )
    ui.info(f"Wrote {len(refs)} reference(s) to {path}.")
    return 0
