"""`gett catalog ...`: validate, count and show CatalogSet files from a shell.

``register(subparsers)`` adds the ``catalog`` command to the main ``gett``
parser (each sub-command sets ``func``, which returns the exit code);
``main(argv)`` runs it standalone::

    python -m gettcommerce._catalog_cli validate menu.json other.json --json
    python -m gettcommerce._catalog_cli stats menu.json
    python -m gettcommerce._catalog_cli tree menu.json

Exit codes: 0 valid (warnings allowed), 1 errors found, 2 a file could not
be read or the command line was wrong.
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple, Union

from .catalog import CatalogSet, validate_catalogset
from .errors import CatalogValidationError

__all__ = ["register", "main"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _cmd_validate(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    results: List[Dict[str, Any]] = []
    status = EXIT_OK
    for path in args.files:
        try:
            raw = _read(path)
        except OSError as exc:
            results.append({"file": path, "valid": False, "readError": exc.strerror or str(exc),
                            "errors": 0, "warnings": 0, "issues": []})
            status = max(status, EXIT_UNREADABLE)
            continue
        issues = validate_catalogset(raw)
        failing = [i for i in issues if i.severity == "error" or args.warnings_as_errors]
        n_errors = sum(1 for i in issues if i.severity == "error")
        results.append({"file": path, "valid": not failing, "errors": n_errors,
                        "warnings": len(issues) - n_errors,
                        "issues": [i.to_dict() for i in issues]})
        if failing:
            status = max(status, EXIT_INVALID)
    if args.json:
        json.dump({"valid": status == EXIT_OK, "files": results}, out, indent=2,
                  ensure_ascii=False)
        out.write("\n")
        return status
    for result in results:
        if "readError" in result:
            out.write(f"{result['file']}: cannot read: {result['readError']}\n")
            continue
        verdict = "valid" if result["valid"] else "INVALID"
        out.write(f"{result['file']}: {verdict} ({_plural(result['errors'], 'error')}, "
                  f"{_plural(result['warnings'], 'warning')})\n")
        for issue in result["issues"]:
            shown = issue["path"] or "/"
            out.write(f"  {issue['severity']:<7} {issue['code']:<20} {shown}\n"
                      f"          {issue['message']}\n")
    return status


_FileCommand = Callable[[argparse.Namespace, TextIO, bytes, CatalogSet], int]


def _on_one_file(command: _FileCommand) -> Callable[..., int]:
    """A sub-command on ``args.file``: ``command(args, out, raw, catalogset)`` runs once the file
    is read and loaded; otherwise the exit code, after saying why not."""
    @functools.wraps(command)
    def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
        out = out or sys.stdout
        loaded = _open(args.file, out)
        if isinstance(loaded, int):
            return loaded
        return command(args, out, *loaded)
    return run


@_on_one_file
def _cmd_stats(args: argparse.Namespace, out: TextIO, raw: bytes, cs: CatalogSet) -> int:
    issues = validate_catalogset(raw)
    n_errors = sum(1 for i in issues if i.severity == "error")
    stats: Dict[str, Any] = dict(cs.stats)
    stats.update({"catalogSetId": cs.catalog_set_id, "storeId": cs.store_id,
                  "bytes": len(raw), "errors": n_errors, "warnings": len(issues) - n_errors})
    if args.json:
        json.dump(stats, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(f"{args.file}: CatalogSet {cs.catalog_set_id} for store {cs.store_id}\n")
        for key in ("catalogs", "sections", "items", "modifierGroups"):
            out.write(f"  {key:<15}{stats[key]:>10}\n")
        out.write(f"  {'bytes':<15}{len(raw):>10}\n")
        out.write(f"  {_plural(n_errors, 'error')}, "
                  f"{_plural(len(issues) - n_errors, 'warning')}"
                  f"{' (run `gett catalog validate` for details)' if issues else ''}\n")
    return EXIT_OK


def _open(path: str, out: TextIO) -> Union[int, Tuple[bytes, CatalogSet]]:
    """The file's bytes and CatalogSet, or the exit code after saying why not."""
    try:
        raw = _read(path)
    except OSError as exc:
        out.write(f"{path}: cannot read: {exc.strerror or exc}\n")
        return EXIT_UNREADABLE
    cs = _load_bytes(path, raw, out)
    if cs is None:
        return EXIT_INVALID
    return raw, cs


def _load_bytes(path: str, raw: bytes, out: TextIO) -> Optional[CatalogSet]:
    try:
        return CatalogSet.from_json(raw)
    except CatalogValidationError as exc:
        out.write(f"{path}: {exc}\n")
        return None


@_on_one_file
def _cmd_tree(args: argparse.Namespace, out: TextIO, raw: bytes, cs: CatalogSet) -> int:
    out.write(cs.tree(prices=not args.no_prices) + "\n")
    return EXIT_OK


def register(subparsers: "argparse._SubParsersAction[Any]") -> argparse.ArgumentParser:
    """Add ``catalog {validate,stats,tree}`` to a parser's subcommands.

    Each leaf sets ``func(args) -> int`` (the exit code) in the namespace.
    """
    catalog: argparse.ArgumentParser = subparsers.add_parser(
        "catalog", help="validate, count or show CatalogSet JSON files",
        description="Work with CatalogSet files (the menu Gett pulls from your callbackUrl).")
    commands = catalog.add_subparsers(dest="catalog_command", metavar="{validate,stats,tree}")
    commands.required = True

    validate = commands.add_parser(
        "validate", help="check files against every CatalogSet rule",
        description="Check CatalogSet files; exit 0 when all are valid, 1 when any has errors, "
                    "2 when a file cannot be read.")
    validate.add_argument("files", nargs="+", metavar="FILE", help="CatalogSet JSON ('-' = stdin)")
    validate.add_argument("--json", action="store_true", help="print a JSON report")
    validate.add_argument("--warnings-as-errors", action="store_true",
                          help="fail on warnings (unreachable entities, never-open catalogs) too")
    validate.set_defaults(func=_cmd_validate)

    stats = commands.add_parser("stats", help="count catalogs, sections, items, modifier groups")
    stats.add_argument("file", metavar="FILE")
    stats.add_argument("--json", action="store_true", help="print the counts as JSON")
    stats.set_defaults(func=_cmd_stats)

    tree = commands.add_parser("tree", help="print the menu as a tree")
    tree.add_argument("file", metavar="FILE")
    tree.add_argument("--no-prices", action="store_true", help="leave prices out")
    tree.set_defaults(func=_cmd_tree)
    return catalog


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``catalog ...`` standalone; ``argv`` excludes the word ``catalog``."""
    parser = argparse.ArgumentParser(prog="gett")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    args = parser.parse_args(["catalog", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
