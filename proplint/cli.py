"""The `proplint` command: check, fix, rule, rules.

Exit codes: 0 nothing found, 1 findings (or, for `fix --diff`, changes that would be made), 2 a usage,
configuration or catalog error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from proplint import __version__
from proplint.core.catalog import CatalogError
from proplint.config import Config, ConfigError, find_pyproject, load_config, real_path
from proplint.engine import check_paths, default_jobs
from proplint.settings import Settings, make_settings
from proplint.files import iter_python_files
from proplint.report import FORMATS
from proplint.core.rule import Finding


def _codes(value: str | None, option: str = "--select") -> tuple[str, ...] | None:
    """Comma-separated code prefixes of an option, checked as the configuration's are (exit 2 on a typo)."""
    if value is None:
        return None
    from proplint.config import check_codes

    return check_codes(option, [v.strip().upper() for v in value.split(",") if v.strip()])


def _fail(message: str) -> None:
    click.echo(f"proplint: error: {message}", err=True)
    sys.exit(2)


def _groups(paths: tuple[str, ...], config_file: str | None, select, ignore, no_cache: bool,
            want_edits: bool = False, jobs: int | None = None) -> list[tuple[Settings, list[Path]]]:
    """One (settings, files) group per configuration that applies to the given paths."""
    by_config: dict[tuple, tuple[Config, list[Path]]] = {}
    for raw in paths or (".",):
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            _fail(f"{raw}: no such file or directory")
        config = load_config(path, Path(config_file) if config_file else None)
        key = (config.root, config.source)
        by_config.setdefault(key, (config, []))[1].append(path)
    # A file found by walking a directory belongs to its own nearest pyproject.toml (a nested project,
    # e.g. examples/, keeps its own [tool.proplint]), as in the flake8 plugin; --config overrides that.
    by_owner: dict[tuple, tuple[Config, list[Path]]] = {}
    nearest: dict[Path, Config] = {}
    for config, group_paths in by_config.values():
        for file in iter_python_files(group_paths, config):
            owner = config
            if config_file is None:
                folder = real_path(file).parent
                if folder not in nearest:
                    source = find_pyproject(folder)
                    same = source is None or source == (real_path(config.source) if config.source else None)
                    nearest[folder] = config if same else load_config(folder)
                owner = nearest[folder]
            by_owner.setdefault((owner.root, owner.source), (owner, []))[1].append(file)
    groups = []
    for config, files in by_owner.values():
        settings = make_settings(config, _codes(select), _codes(ignore, "--ignore") or (), use_cache=not no_cache,
                                 want_edits=want_edits, jobs=jobs or default_jobs())
        groups.append((settings, files))
    return groups


def _common_options(fn):
    fn = click.option("--no-cache", is_flag=True, help="Do not read or write .proplint_cache/.")(fn)
    fn = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                      help="Worker processes (default: one per core).")(fn)
    fn = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                      help="Read [tool.proplint] from this pyproject.toml instead of the nearest one.")(fn)
    fn = click.option("--ignore", metavar="CODES", help="Comma-separated code prefixes to skip (added to the config's).")(fn)
    fn = click.option("--select", metavar="CODES",
                      help="Comma-separated code prefixes to report (replaces the config's), e.g. PRP1,PRP203.")(fn)
    fn = click.argument("paths", nargs=-1, type=click.Path())(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="proplint")
def main() -> None:
    """Find and fix lost trace context: HTTP clients, threads, executors and messages that drop
    the caller's contextvars / OpenTelemetry context.

    \b
      proplint check src/          report findings (exit 1 when any)
      proplint fix --diff src/     show what the safe fixes would change
      proplint fix src/            apply the safe fixes
      proplint rule PRP101         explain a rule and its fix
      proplint server              the language server, for editors

    Configure in [tool.proplint] of pyproject.toml; see `proplint rules` for every code.
    """


@main.command()
@_common_options
@click.option("--output-format", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="text: path:line:col: CODE message; json: ruff's JSON schema; sarif: SARIF 2.1.0; "
                   "github: workflow annotations.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--stdin-filename", metavar="PATH",
              help="With `-` as the path: the file the code read from standard input is (for the configuration, "
                   "per-file-ignores, the project's index and the messages). Default: stdin.py here.")
def check(paths, select, ignore, config_file, jobs, no_cache, output_format, exit_zero, stdin_filename) -> None:
    """Report propagation mistakes in PATHS (files or directories; default: .; `-` reads standard input)."""
    try:
        if paths == ("-",):
            findings, checked = _check_stdin(stdin_filename, config_file, select, ignore, no_cache,
                                             output_format == "json"), 1
        else:
            groups = _groups(paths, config_file, select, ignore, no_cache, want_edits=output_format == "json",
                             jobs=jobs)
            findings = []
            checked = 0
            for settings, files in groups:
                checked += len(files)
                findings.extend(check_paths(files, settings, jobs, use_cache=not no_cache))
    except (ConfigError, CatalogError) as exc:
        _fail(str(exc))
        return
    findings.sort(key=lambda f: f.sort_key)
    click.echo(FORMATS[output_format](findings), nl=False)
    files_with = len({f.path for f in findings})
    if findings:
        fixable = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
        extra = f"; {fixable} fixable with `proplint fix`" if fixable else ""
        click.echo(f"Found {len(findings)} finding{'s' * (len(findings) != 1)} in {files_with} "
                   f"file{'s' * (files_with != 1)} ({checked} checked){extra}.", err=True)
    elif checked == 0:
        click.echo("proplint: warning: no Python files to check under the given paths (they are empty, "
                   "excluded by config, or ignored by .gitignore); name files explicitly to check them anyway",
                   err=True)
    else:
        click.echo(f"All checks passed ({checked} file{'s' * (checked != 1)} checked).", err=True)
    sys.exit(1 if findings and not exit_zero else 0)


def _check_stdin(stdin_filename: str | None, config_file, select, ignore, no_cache: bool,
                 want_edits: bool) -> list[Finding]:
    """`proplint check -`: the code on standard input, checked as the file `--stdin-filename` names."""
    from proplint.engine import analyse, relpath_of

    path = Path(stdin_filename or "stdin.py").absolute()
    config = load_config(path.parent, Path(config_file) if config_file else None)
    settings = make_settings(config, _codes(select), _codes(ignore, "--ignore") or (), use_cache=not no_cache,
                             want_edits=want_edits)
    source = click.get_binary_stream("stdin").read()
    return analyse(source, stdin_filename or "stdin.py", relpath_of(path, config.root), settings).findings


@main.command()
@_common_options
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes marked unsafe (they may change behaviour).")
@click.option("--diff", is_flag=True, help="Print a unified diff of the fixes; write nothing; exit 1 if any.")
def fix(paths, select, ignore, config_file, jobs, no_cache, unsafe_fixes, diff) -> None:
    """Apply fixes to PATHS. Safe fixes only, unless --unsafe-fixes.

    Every fixed file is re-parsed and re-checked before it is written; a file whose fix does not
    verify, or that changed on disk meanwhile, is left untouched and reported.
    """
    from proplint.fixes import fix_file, unified_diff

    try:
        groups = _groups(paths, config_file, select, ignore, no_cache, jobs=jobs)
    except (ConfigError, CatalogError) as exc:
        _fail(str(exc))
        return
    applied = files_fixed = 0
    remaining: list[Finding] = []
    errors: list[str] = []
    for settings, files in groups:
        for path in files:
            result = fix_file(path, settings, unsafe_fixes, write=not diff)
            remaining.extend(result.remaining)
            if result.error:
                errors.append(f"{result.path}: {result.error}")
                continue
            if result.changed:
                applied += result.applied
                files_fixed += 1
                if diff:
                    click.echo(unified_diff(result.path, result.original, result.fixed), nl=False)
    remaining.sort(key=lambda f: f.sort_key)
    if not diff:
        click.echo(FORMATS["text"](remaining), nl=False)
    for line in errors:
        click.echo(f"proplint: {line}", err=True)
    manual = sum(1 for f in remaining if f.fix is None)
    unsafe_left = sum(1 for f in remaining if f.fix is not None)
    verb = "Would fix" if diff else "Fixed"
    summary = f"{verb} {applied} finding{'s' * (applied != 1)} in {files_fixed} file{'s' * (files_fixed != 1)}"
    if remaining:
        parts = [f"{manual} need{'s' * (manual == 1)} a manual change"]
        if unsafe_left:
            parts.append(f"{unsafe_left} {'has an unsafe fix' if unsafe_left == 1 else 'have unsafe fixes'}"
                         f" (--unsafe-fixes)")
        summary += f"; {len(remaining)} remain ({', '.join(parts)})"
    click.echo(summary, err=True)
    if diff:
        sys.exit(1 if applied else 0)
    sys.exit(1 if remaining or errors else 0)


@main.command()
@click.argument("code")
def rule(code: str) -> None:
    """Print the documentation of rule CODE (e.g. PRP101)."""
    from proplint.registry import all_rules

    rules = all_rules()
    found = rules.get(code.upper())
    if found is None:
        _fail(f"unknown rule {code!r}; `proplint rules` lists them")
        return
    click.echo(found.documentation())


@main.command(name="rules")
def rules_command() -> None:
    """List every rule: code, name, fix availability, and whether it is on by default."""
    from proplint.registry import all_rules

    rows = [(r.code, r.name, r.fix, "" if r.default_enabled else "off by default") for r in all_rules().values()]
    width = max(len(r[1]) for r in rows)
    for code, name, fix_kind, default in rows:
        click.echo(f"{code}  {name:<{width}}  fix: {fix_kind:<14} {default}".rstrip())


@main.command()
@click.option("--stdio", is_flag=True, help="Talk LSP over standard input/output (the default and only transport; "
                                            "accepted because many editor clients pass it).")
def server(stdio: bool) -> None:
    """Run the language server (LSP over stdio) for editors.

    \b
    Diagnostics on open and save (on every change with the initialization
    option {"runOnChange": true}), a quick fix per fixable finding, "fix all"
    (code action kind source.fixAll.proplint: the safe fixes, verified as
    `proplint fix` verifies them), "ignore for this line" (# noqa), and the
    rule's documentation on hover over a code in a `# noqa:` comment.
    Settings come from each file's [tool.proplint], as for `check`. See the
    README for VS Code, Neovim and Helix.
    """
    from proplint.server.lsp import serve

    serve()


@main.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--write", "write_it", is_flag=True,
              help="Append the proposal to PATH/pyproject.toml (created if missing; refused if it already has "
                   "a [tool.proplint] table).")
def init(path: Path, write_it: bool) -> None:
    """Propose a [tool.proplint] for the project at PATH, in the project's own scheme.

    Reads the project (never imports or runs it) and prints a commented table: import roots (`src`), the
    tracing in use and, per deploy unit, whether a context exists there; the request-scoped ContextVars and
    where they are set; the project's own injectors and extractors and the payload field its carriers travel
    in; a traced client builder (`http-client-factory`); the test and script folders that are not checked.
    Every line says why. Exit 0; 2 on an error.
    """
    from proplint import init as init_module

    root = real_path(path)
    try:
        config = load_config(root)
        if config.root != root:
            config = Config(root=root)
        proposal = init_module.discover(config)
        text = init_module.render(proposal, root)
        if write_it:
            init_module.write(root / "pyproject.toml", text)
    except (ConfigError, CatalogError, FileExistsError, OSError) as exc:
        _fail(str(exc))
        return
    click.echo(text, nl=False)
    if write_it:
        click.echo(f"proplint: wrote [tool.proplint] to {root / 'pyproject.toml'}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
