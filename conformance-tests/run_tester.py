#!/usr/bin/env python3
"""Run the scim2-tester conformance checks against a running SCIM 2.0 server.

Usage:
    run_tester.py --url http://127.0.0.1:8080/scim/v2 --token TOKEN

It discovers the server (/ServiceProviderConfig, /ResourceTypes, /Schemas)
with scim2-client, runs every scim2-tester check, prints one line per check
result and closes with the line

    conformance: N passed, M failed, K skipped

where M counts only the failures that are NOT listed as expected in the
project README (section "## Conformance: not yet supported").

Exit codes: 0 all good (expected failures tolerated), 1 at least one
unexpected failure, 2 the run itself could not happen (missing dependency,
server unreachable, tester crash, bad arguments).
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT_DIR = Path(__file__).resolve().parent
DEFAULT_README = SCRIPT_DIR.parent / "README.md"
SECTION_TITLE = "conformance: not yet supported"

# scim2_tester.Status names, grouped by what they mean for this runner.
PASS_STATUSES = {"SUCCESS", "COMPLIANT", "ACCEPTABLE"}
WARN_STATUSES = {"DEVIATION"}  # SHOULD-level deviation: a pass unless --strict
FAIL_STATUSES = {"ERROR", "CRITICAL"}
SKIP_STATUSES = {"SKIPPED"}
# Anything else (a status added by a newer scim2-tester) counts as a failure.

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_CANNOT_RUN = 2


def eprint(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Expected failures (README)
# --------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+`([^`]+)`")


def parse_expected_failures(readme: Path) -> list[str]:
    """Return the backticked check titles of the README's expected-failure list.

    The list lives under a heading line ``## Conformance: not yet supported``
    and ends at the next heading of the same or a higher level. Each entry is a
    bullet line starting with a backticked title, e.g.

        - `check_add_attribute` — PATCH add on complex attributes (issue #12)

    A missing file or section means an empty list.
    """
    try:
        text = readme.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return []

    titles: list[str] = []
    in_section = False
    section_level = 0
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if in_section and level <= section_level:
                break
            if not in_section and heading.group(2).strip().lower() == SECTION_TITLE:
                in_section = True
                section_level = level
            continue
        if in_section:
            bullet = _BULLET.match(line)
            if bullet:
                title = bullet.group(1).strip()
                if title and title not in titles:
                    titles.append(title)
    return titles


# --------------------------------------------------------------------------
# Result classification
# --------------------------------------------------------------------------


@dataclass
class Row:
    label: str  # PASS, WARN, FAIL, XFAIL, SKIP
    status: str  # scim2-tester status name
    title: str
    resource_type: str | None
    reason: str
    data: Any
    matched_entry: str | None = None


def status_name(status: Any) -> str:
    name = getattr(status, "name", None)
    return str(name if name is not None else status).upper()


def result_keys(title: str, resource_type: str | None) -> list[str]:
    """The README entries that tolerate a failed result."""
    keys = [title]
    if resource_type:
        keys.append(f"{title}[{resource_type}]")
    return keys


def classify(
    result: Any, expected: set[str], strict: bool
) -> Row:
    status = status_name(getattr(result, "status", "UNKNOWN"))
    title = getattr(result, "title", None) or "(untitled)"
    resource_type = getattr(result, "resource_type", None)
    reason = getattr(result, "reason", None)
    if not reason:
        description = getattr(result, "description", None) or ""
        reason = description.strip().splitlines()[0] if description.strip() else "-"
    data = getattr(result, "data", None)

    if status in PASS_STATUSES:
        label = "PASS"
    elif status in WARN_STATUSES and not strict:
        label = "WARN"
    elif status in SKIP_STATUSES:
        label = "SKIP"
    else:  # FAIL_STATUSES, DEVIATION under --strict, unknown statuses
        label = "FAIL"

    row = Row(label, status, title, resource_type, str(reason), data)
    if label == "FAIL":
        for key in result_keys(title, resource_type):
            if key in expected:
                row.label = "XFAIL"
                row.matched_entry = key
                break
    return row


def short_repr(value: Any, limit: int) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not kill the report
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_row(row: Row, verbose: bool) -> None:
    where = f" [{row.resource_type}]" if row.resource_type else ""
    lines = row.reason.splitlines() or ["-"]
    print(f"{row.label:<5} {row.status:<10} {row.title}{where}: {lines[0]}")
    for extra in lines[1:]:
        print(f"{'':<17}{extra}")
    if row.label == "XFAIL":
        print(f"{'':<17}(expected failure: `{row.matched_entry}` in README)")
    if row.data is not None and (row.label == "FAIL" or verbose):
        print(f"{'':<17}data: {short_repr(row.data, 2000 if verbose else 400)}")


# --------------------------------------------------------------------------
# SCIM client
# --------------------------------------------------------------------------


def import_libraries() -> tuple[Any, Any, Any]:
    """Return (http module, SyncSCIMClient class, check_server function)."""
    try:
        from scim2_tester import check_server
    except ImportError as exc:
        eprint(f"error: cannot import scim2_tester ({exc}).")
        eprint("Run through conformance-tests/run.sh, or install the pinned")
        eprint("dependencies first: pip install -r conformance-tests/requirements.txt")
        sys.exit(EXIT_CANNOT_RUN)

    # scim2-client >= 0.13 names its engine after httpx2; older ones after httpx.
    try:
        import httpx2 as http
        from scim2_client.engines.httpx2 import SyncSCIMClient
    except ImportError:
        try:
            import httpx as http  # type: ignore[no-redef]
            from scim2_client.engines.httpx import SyncSCIMClient  # type: ignore[no-redef]
        except ImportError as exc:
            eprint(f"error: no scim2-client HTTP engine is installed ({exc}).")
            eprint("Install scim2-client with its httpx2 extra (see requirements.txt).")
            sys.exit(EXIT_CANNOT_RUN)
    return http, SyncSCIMClient, check_server


def package_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "?"


def preflight(http: Any, http_client: Any, url: str) -> None:
    """Fail fast, with a clear message, when the server cannot be reached."""
    try:
        response = http_client.get("ServiceProviderConfig")
    except Exception as exc:  # connection refused, DNS, timeout, invalid URL...
        eprint(f"error: cannot reach the SCIM server at {url}: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_CANNOT_RUN)
    if response.status_code in (401, 403):
        print(
            f"warning: GET {url}/ServiceProviderConfig answered {response.status_code}: "
            "the token seems to be rejected; the checks will likely fail.",
            flush=True,
        )


def describe(scim: Any) -> None:
    """Print what the client discovered."""
    provider = getattr(scim, "provider", None)
    resource_types = list(getattr(provider, "resource_types", None) or [])
    models = list(getattr(provider, "models", None) or [])
    config = getattr(provider, "config", None)
    print(f"discovered: {len(resource_types)} resource type(s), {len(models)} model(s)")
    for rt in resource_types:
        extensions = [
            getattr(ext, "schema_", "?") for ext in (getattr(rt, "schema_extensions", None) or [])
        ]
        ext = f" + {', '.join(map(str, extensions))}" if extensions else ""
        print(f"  - {rt.name} at {rt.endpoint} ({rt.schema_}{ext})")
    if config is not None:
        features = []
        for feature in ("patch", "bulk", "filter", "change_password", "sort", "etag"):
            value = getattr(config, feature, None)
            supported = getattr(value, "supported", None)
            features.append(f"{feature}={'?' if supported is None else supported}")
        print(f"  service provider config: {', '.join(features)}")
    sys.stdout.flush()


def call_check_server(check_server: Any, scim: Any, args: argparse.Namespace) -> list[Any]:
    """Call check_server with only the keyword arguments its signature accepts."""
    wanted: dict[str, Any] = {
        "raise_exceptions": False,
        "include_tags": set(args.include_tags) if args.include_tags else None,
        "exclude_tags": set(args.exclude_tags) if args.exclude_tags else None,
        "resource_types": list(args.resource_types) if args.resource_types else None,
    }
    try:
        accepted = set(inspect.signature(check_server).parameters)
    except (TypeError, ValueError):
        accepted = set(wanted)
    kwargs = {k: v for k, v in wanted.items() if k in accepted and v is not None}
    for k in ("include_tags", "exclude_tags", "resource_types"):
        if wanted[k] is not None and k not in accepted:
            eprint(f"warning: this scim2-tester's check_server has no '{k}' parameter; ignored")
    return list(check_server(scim, **kwargs) or [])


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run scim2-tester against a SCIM 2.0 server.",
    )
    parser.add_argument("--url", required=True, help="SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2")
    parser.add_argument(
        "--token",
        default=os.environ.get("SCIM_TOKEN"),
        help="bearer token (default: $SCIM_TOKEN; none = no Authorization header)",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        default=DEFAULT_README,
        help=f"file holding the expected-failure list (default: {DEFAULT_README})",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds (default 30)")
    parser.add_argument("--include-tags", nargs="+", metavar="TAG", help="run only checks with one of these tags")
    parser.add_argument("--exclude-tags", nargs="+", metavar="TAG", help="skip checks with one of these tags")
    parser.add_argument("--resource-types", nargs="+", metavar="NAME", help="test only these resource types")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="count DEVIATION results (SHOULD-level) as failures instead of warnings",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print the debug data of every result")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    url = args.url.rstrip("/")

    http, SyncSCIMClient, check_server = import_libraries()

    expected_list = parse_expected_failures(args.readme)
    expected = set(expected_list)

    print(
        f"scim2-tester {package_version('scim2-tester')}, scim2-client {package_version('scim2-client')}, "
        f"scim2-models {package_version('scim2-models')}"
    )
    print(f"server: {url}")
    print(f"expected failures from {args.readme}: {len(expected_list)}")
    for title in expected_list:
        print(f"  - {title}")
    sys.stdout.flush()

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        http_client = http.Client(base_url=url, headers=headers, timeout=args.timeout)
    except Exception as exc:
        eprint(f"error: invalid SCIM base URL {url!r}: {exc}")
        return EXIT_CANNOT_RUN

    rows: list[Row] = []
    with http_client:
        preflight(http, http_client, url)

        # Discovery through the client, as a SCIM client application would do it.
        scim = SyncSCIMClient(http_client)
        try:
            scim.discover()
            describe(scim)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            cause = exc.__cause__
            if cause is not None:
                reason += f" (caused by {type(cause).__name__}: {cause})"
            print(f"client discovery failed: {reason}", flush=True)
            # Keep going with a blank client: check_server then runs its own
            # discovery checks, which tell which endpoint is at fault.
            rows.append(
                classify(
                    _Synthetic("ERROR", "client_discovery", reason, getattr(exc, "source", None)),
                    expected,
                    args.strict,
                )
            )
            scim = SyncSCIMClient(http_client)

        print("running checks...", flush=True)
        try:
            results = call_check_server(check_server, scim, args)
        except Exception:
            eprint("error: scim2-tester crashed:")
            eprint(traceback.format_exc())
            return EXIT_CANNOT_RUN

    rows.extend(classify(r, expected, args.strict) for r in results)

    print()
    for row in rows:
        print_row(row, args.verbose)
    print()

    passed = sum(r.label in ("PASS", "WARN") for r in rows)
    warned = sum(r.label == "WARN" for r in rows)
    failed = sum(r.label == "FAIL" for r in rows)
    xfailed = sum(r.label == "XFAIL" for r in rows)
    skipped = sum(r.label == "SKIP" for r in rows)

    failed_titles = {r.title for r in rows if r.label in ("FAIL", "XFAIL")} | {
        f"{r.title}[{r.resource_type}]" for r in rows if r.label in ("FAIL", "XFAIL") and r.resource_type
    }
    stale = [t for t in expected_list if t not in failed_titles]
    for title in stale:
        print(f"note: expected failure `{title}` did not fail in this run; remove it from the README list if it is fixed")
    if warned:
        print(f"deviations (SHOULD-level, counted as passed; --strict fails them): {warned}")
    print(f"expected failures (tolerated, listed in README): {xfailed}")
    if failed:
        unexpected = sorted({r.title + (f"[{r.resource_type}]" if r.resource_type else "") for r in rows if r.label == "FAIL"})
        print(f"unexpected failures in: {', '.join(unexpected)}")
    if not rows:
        print("error: scim2-tester reported no result at all")
    print(f"conformance: {passed} passed, {failed} failed, {skipped} skipped", flush=True)

    if failed or not rows:
        return EXIT_FAILURES
    return EXIT_OK


@dataclass
class _Synthetic:
    """A result of this runner's own, shaped like scim2_tester.CheckResult."""

    status: str
    title: str
    reason: str
    data: Any = None
    resource_type: str | None = None
    description: str | None = None


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        eprint("interrupted")
        sys.exit(130)
