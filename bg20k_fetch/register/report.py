"""An audit as a compliance officer files it: CSV, and one self-contained HTML page — no
external request, no script, printable — with the agreement's title, version and SHA-256, the
people and their states, and when it was made. Text only; the CLI writes it."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import asdict, fields
from html import escape

from bg20k_fetch.register.audit import CURRENT, Audit, Row

COLUMNS = [f.name for f in fields(Row)]

_STYLE = """
body { font: 11pt/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 15pt; margin: 0 0 .3em; } p { margin: .2em 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; font-size: 9.5pt; }
th, td { border: 1px solid #999; padding: .25em .4em; text-align: left; vertical-align: top; }
th { background: #eee; } tr.missing td { background: #fde8e8; }
code { font-size: 9pt; word-break: break-all; }
@media print { body { margin: 1cm; } tr { break-inside: avoid; } }
"""


def to_csv(report: Audit) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: _cell(v) for k, v in asdict(row).items()})
    return out.getvalue()


def _cell(value: object) -> object:
    """A spreadsheet runs a cell that starts with = + - @ as a formula: a name a person typed
    at acceptance (``=HYPERLINK(…)``) must stay text, so it gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _shown(text: object) -> str:
    """A value fit for a terminal: control characters (escape sequences, a newline that would
    fake another row, bidirectional overrides) shown as escapes."""
    return "".join(
        c if c.isprintable() and unicodedata.category(c) != "Cf" else repr(c)[1:-1]
        for c in str(text)
    )


def to_html(report: Audit) -> str:
    summary = (
        "Everyone listed has accepted the current text."
        if not report.missing
        else f"{len(report.missing)} of {len(report.rows)} people have not accepted the current "
        "text."
    )
    head = ["person", "state", "since", "host", "how", "version", "name", "e-mail", "affiliation"]
    rows = "\n".join(
        f'<tr class="{"ok" if r.state == CURRENT else "missing"}">'
        + "".join(f"<td>{escape(str(v or ''))}</td>" for v in _cells(r))
        + "</tr>"
        for r in report.rows
    )
    damaged = "".join(
        f"<li><code>{escape(name)}</code>: {escape(why)}</li>" for name, why in report.damaged
    )
    damaged_html = (
        f"<h2>Files in the register that are not intact records</h2><ul>{damaged}</ul>"
        if damaged
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>BG-20k consent audit — {escape(report.location)}</title>
<style>{_STYLE}</style></head><body>
<h1>BG-20k consent audit</h1>
<p>Copy: <code>{escape(report.location)}</code></p>
<p>Agreement: {escape(report.agreement_title)}, version {escape(report.agreement_version)},
SHA-256 <code>{escape(report.agreement_sha256)}</code></p>
<p>Dataset digest: <code>{escape(report.dataset_digest or "unknown")}</code></p>
<p>Made {escape(report.made_at)} by bg20k audit. {escape(summary)}</p>
<table><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>
<tbody>
{rows}
</tbody></table>
{damaged_html}
</body></html>
"""


def _cells(r: Row) -> tuple[str | None, ...]:
    return (r.os_user, r.state, r.at, r.host, r.method, r.agreement_version, r.name, r.email,
            r.affiliation)  # fmt: skip


def to_table(report: Audit) -> str:
    """Plain columns for a terminal."""
    lines = [
        f"{report.agreement_title} {report.agreement_version} "
        f"({report.agreement_sha256[:12]}) — register of {report.location}"
    ]
    width = max([len(r.os_user) for r in report.rows] + [6])
    for r in report.rows:
        since = f" since {r.at}" if r.at else ""
        where = f" on {_shown(r.host)} ({_shown(r.method)})" if r.host else ""
        lines.append(f"  {_shown(r.os_user):<{width}}  {r.state}{since}{where}")
    lines += [f"  DAMAGED {_shown(name)}: {why}" for name, why in report.damaged]
    if not report.rows:
        lines.append("  (no one on record)")
    return "\n".join(lines) + "\n"
