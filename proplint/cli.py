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


def _patterns(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _excluding(config: Config, exclude: str | None, extend_exclude: str | None) -> Config:
    """The configuration with `--exclude` (replacing its `exclude`) and `--extend-exclude` (added) applied."""
    if exclude is None and not extend_exclude:
        return config
    from dataclasses import replace

    base = _patterns(exclude) if exclude is not None else config.exclude
    return replace(config, exclude=base + _patterns(extend_exclude))


def _groups(paths: tuple[str, ...], config_file: str | None, select, ignore, no_cache: bool,
            want_edits: bool = False, jobs: int | None = None, exclude: str | None = None,
            extend_exclude: str | None = None, force_exclude: bool = False) -> list[tuple[Settings, list[Path]]]:
    """One (settings, files) group per configuration that applies to the given paths."""
    from proplint.files import force_excluded

    by_config: dict[tuple, tuple[Config, list[Path]]] = {}
    for raw in paths or (".",):
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            _fail(f"{raw}: no such file or directory")
        config = _excluding(load_config(path, Path(config_file) if config_file else None), exclude, extend_exclude)
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
                    nearest[folder] = config if same else _excluding(load_config(folder), exclude, extend_exclude)
                owner = nearest[folder]
            if force_exclude and force_excluded(file, owner):
                continue
            by_owner.setdefault((owner.root, owner.source), (owner, []))[1].append(file)
    groups = []
    for config, files in by_owner.values():
        settings = make_settings(config, _codes(select), _codes(ignore, "--ignore") or (), use_cache=not no_cache,
                                 want_edits=want_edits, jobs=jobs or default_jobs())
        groups.append((settings, files))
    return groups


def _positive(ctx, param, value):
    if value is not None and value < 1:
        raise click.BadParameter("must be at least 1")
    return value


def _common_options(fn):
    fn = click.option("--no-cache", is_flag=True, help="Do not read or write .proplint_cache/.")(fn)
    fn = click.option("--jobs", "-j", type=int, metavar="N", default=None, callback=_positive,
                      help="Worker processes (default: one per core).")(fn)
    fn = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                      help="Use this pyproject.toml, not the nearest one.")(fn)
    fn = click.option("--ignore", metavar="CODES", help="Code prefixes to skip (added to the config's).")(fn)
    fn = click.option("--select", metavar="CODES",
                      help="Code prefixes to report, replacing the config's.")(fn)
    fn = click.argument("paths", nargs=-1, type=click.Path())(fn)
    return fn


def _exclude_options(fn):
    fn = click.option("--force-exclude", is_flag=True,
                      help="Exclude named files too (for pre-commit).")(fn)
    fn = click.option("--extend-exclude", metavar="GLOBS", help="Globs to exclude, added to the config's.")(fn)
    fn = click.option("--exclude", metavar="GLOBS", help="Globs to exclude (replaces the config's).")(fn)
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
      proplint check --write-baseline .proplint-baseline.json src/
                                   record today's findings (legacy code)
      proplint check --baseline .proplint-baseline.json src/
                                   fail only on findings not in the baseline
      proplint check --add-noqa src/
                                   silence today's findings in place
      proplint server              the language server, for editors

    Configure in [tool.proplint] of pyproject.toml; see `proplint rules` for every code.
    """


@main.command()
@_common_options
@_exclude_options
@click.option("--output-format", type=click.Choice(sorted(FORMATS)), default="text", metavar="FORMAT",
              help="text (default), json, sarif, github, gitlab, junit.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--stdin-filename", metavar="PATH", help="The file that `-` (standard input) is.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Report only findings not in this baseline.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Record every finding in this baseline.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` to each line with a finding.")
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no summary, no progress bar.")
def check(paths, select, ignore, config_file, jobs, no_cache, exclude, extend_exclude, force_exclude, output_format,
          exit_zero, stdin_filename, output_file, statistics, baseline, write_baseline, add_noqa, quiet) -> None:
    """Report propagation mistakes in PATHS (files or directories; default: .; `-` reads standard input)."""
    from proplint import baseline as baselines
    from proplint.engine import relpath_of

    want_edits = output_format == "json" and not statistics
    relpaths: dict[str, str] = {}
    sources: dict[str, bytes] = {}
    checked_rel: set[str] = set()
    try:
        if paths == ("-",):
            if add_noqa:
                _fail("--add-noqa needs files, not standard input")
            findings, checked = _check_stdin(stdin_filename, config_file, select, ignore, no_cache, want_edits,
                                             sources, relpaths, force_exclude), 1
            checked_rel.update(relpaths.values())
        else:
            groups = _groups(paths, config_file, select, ignore, no_cache, want_edits=want_edits, jobs=jobs,
                             exclude=exclude, extend_exclude=extend_exclude, force_exclude=force_exclude)
            findings = []
            checked = sum(len(files) for _, files in groups)
            with _progress(checked, quiet) as bar:
                for settings, files in groups:
                    found = check_paths(files, settings, jobs, use_cache=not no_cache, progress=bar)
                    root = settings.config.root
                    checked_rel.update(relpath_of(f, root) for f in files)
                    relpaths.update((f.path, relpath_of(Path(f.path), root)) for f in found)
                    findings.extend(found)
        stale: list = []
        in_baseline = 0
        if baseline or write_baseline or output_format in ("sarif", "gitlab"):
            baselines.assign(findings, relpaths, sources)
        if baseline:
            entries = baselines.read(Path(baseline))
            new, stale = baselines.split(findings, entries, checked_rel)
            in_baseline = len(findings) - len(new)
            findings = new
    except (ConfigError, CatalogError, baselines.BaselineError) as exc:
        _fail(str(exc))
        return
    findings.sort(key=lambda f: f.sort_key)
    if write_baseline:
        count = baselines.write(Path(write_baseline), findings, relpaths, sources)
        click.echo(f"Wrote {count} finding{'s' * (count != 1)} to {write_baseline}; check with "
                   f"--baseline {write_baseline} to report only new ones.", err=True)
        sys.exit(0)
    if add_noqa:
        _add_noqa(findings)
        return
    from proplint.report import statistics as stats

    report = stats.render(findings, output_format == "json") if statistics else FORMATS[output_format](findings)
    _emit(report, output_file)
    for entry in stale:
        click.echo(f"proplint: baseline entry no longer found: {entry.path}: {entry.code} {entry.source}", err=True)
    if stale:
        click.echo(f"proplint: {len(stale)} baseline entr{'ies' if len(stale) != 1 else 'y'} match no finding any "
                   f"more (fixed or rewritten): refresh it with --write-baseline {baseline}", err=True)
    if not quiet:
        _summary(findings, checked, in_baseline)
    sys.exit(1 if findings and not exit_zero else 0)


def _emit(report: str, output_file: str | None) -> None:
    """The report on stdout, or in `--output-file` (its folder created)."""
    if output_file is None:
        click.echo(report, nl=False)
        return
    try:
        target = Path(output_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(report, encoding="utf-8")
    except OSError as exc:
        _fail(f"--output-file {output_file}: {exc.strerror or exc}")


def _summary(findings: list[Finding], checked: int, in_baseline: int = 0) -> None:
    files_with = len({f.path for f in findings})
    known = f"; {in_baseline} more in the baseline" if in_baseline else ""
    if findings:
        fixable = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
        extra = f"; {fixable} fixable with `proplint fix`" if fixable else ""
        new = "new " if in_baseline else ""
        click.echo(f"Found {len(findings)} {new}finding{'s' * (len(findings) != 1)} in {files_with} "
                   f"file{'s' * (files_with != 1)} ({checked} checked){extra}{known}.", err=True)
    elif checked == 0:
        click.echo("proplint: warning: no Python files to check under the given paths (they are empty, "
                   "excluded by config, or ignored by .gitignore); name files explicitly to check them anyway",
                   err=True)
    else:
        click.echo(f"All checks passed ({checked} file{'s' * (checked != 1)} checked{known}).", err=True)


class _progress:
    """A progress bar on stderr while files are checked, only when stderr is a terminal (and not --quiet);
    used as `progress(n)`, n files more done. Cleared when done, so the summary stands alone."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.bar = None
        if not quiet and total > 1 and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label="Checking", file=sys.stderr, show_pos=True)

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.__enter__()
        return self.bar.update

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def _add_noqa(findings: list[Finding]) -> None:
    """`check --add-noqa`: the comments added, a line saying how many; exit 0 unless a file could not be done."""
    from itertools import groupby

    from proplint.add_noqa import add_noqa

    added = files = 0
    failed = False
    for path, group in groupby(findings, key=lambda f: f.path):
        count, error = add_noqa(Path(path), list(group))
        if error:
            click.echo(f"proplint: {path}: {error}", err=True)
            failed = True
        if count:
            added += count
            files += 1
    click.echo(f"Added {added} noqa comment{'s' * (added != 1)} in {files} file{'s' * (files != 1)}.", err=True)
    sys.exit(1 if failed else 0)


def _check_stdin(stdin_filename: str | None, config_file, select, ignore, no_cache: bool,
                 want_edits: bool, sources: dict | None = None, relpaths: dict | None = None,
                 force_exclude: bool = False) -> list[Finding]:
    """`proplint check -`: the code on standard input, checked as the file `--stdin-filename` names."""
    from proplint.engine import analyse, relpath_of
    from proplint.files import force_excluded

    shown = stdin_filename or "stdin.py"
    path = Path(shown).absolute()
    config = load_config(path.parent, Path(config_file) if config_file else None)
    source = click.get_binary_stream("stdin").read()
    if force_exclude and stdin_filename and force_excluded(path, config):
        return []
    settings = make_settings(config, _codes(select), _codes(ignore, "--ignore") or (), use_cache=not no_cache,
                             want_edits=want_edits)
    relpath = relpath_of(path, config.root)
    if sources is not None:
        sources[shown] = source
    if relpaths is not None:
        relpaths[shown] = relpath
    return analyse(source, shown, relpath, settings).findings


@main.command()
@_common_options
@_exclude_options
@click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes (may change behaviour).")
@click.option("--diff", is_flag=True, help="Show the fixes as a diff; write nothing.")
@click.option("--show-fixes", is_flag=True, help="List what was fixed, per file and rule.")
@click.option("-q", "--quiet", is_flag=True, help="Print what remains only: no summary.")
def fix(paths, select, ignore, config_file, jobs, no_cache, exclude, extend_exclude, force_exclude, unsafe_fixes,
        diff, show_fixes, quiet) -> None:
    """Apply fixes to PATHS. Safe fixes only, unless --unsafe-fixes.

    Every fixed file is re-parsed and re-checked before it is written; a file whose fix does not
    verify, or that changed on disk meanwhile, is left untouched and reported.
    """
    from proplint.fixes import fix_file, unified_diff

    try:
        groups = _groups(paths, config_file, select, ignore, no_cache, jobs=jobs, exclude=exclude,
                         extend_exclude=extend_exclude, force_exclude=force_exclude)
    except (ConfigError, CatalogError) as exc:
        _fail(str(exc))
        return
    applied = files_fixed = 0
    shown: list[tuple[str, dict]] = []
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
                gone = result.fixed_counts()
                applied += sum(gone.values())  # what disappeared, not how many edits it took
                files_fixed += 1
                shown.append((result.path, gone))
                if diff:
                    click.echo(unified_diff(result.path, result.original, result.fixed), nl=False)
    remaining.sort(key=lambda f: f.sort_key)
    if not diff:
        click.echo(FORMATS["text"](remaining), nl=False)
    for line in errors:
        click.echo(f"proplint: {line}", err=True)
    if show_fixes:
        _show_fixes(shown, diff)
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
    if not quiet:
        click.echo(summary, err=True)
    if diff:
        sys.exit(1 if applied else 0)
    sys.exit(1 if remaining or errors else 0)


def _show_fixes(shown: list[tuple[str, dict]], diff: bool) -> None:
    """`fix --show-fixes`: per file, each rule and how many of its findings the fixes removed (stderr)."""
    from proplint.registry import all_rules

    rules = all_rules()
    if not shown:
        click.echo("No fixes available." if diff else "No fixes applied.", err=True)
        return
    click.echo("Would fix:" if diff else "Fixed:", err=True)
    for path, gone in shown:
        click.echo(f"{path}:", err=True)
        for code, n in sorted(gone.items()):
            name = rules[code].name if code in rules else ""
            click.echo(f"    {n} \N{MULTIPLICATION SIGN} {code} ({name})", err=True)


@main.command()
@click.argument("code")
def rule(code: str) -> None:
    """Print the documentation of rule CODE (e.g. PRP101) or NAME (e.g. httpx-async-client)."""
    from proplint.registry import all_rules

    rules = all_rules()
    found = rules.get(code.upper()) or next((r for r in rules.values() if r.name == code.lower()), None)
    if found is None:
        _fail(f"unknown rule {code!r}; `proplint rules` lists them")
        return
    click.echo(found.documentation())


@main.command(name="rules")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", metavar="FORMAT",
              help="text (default) or json.")
def rules_command(output_format: str) -> None:
    """List every rule: code, name, fix availability, and whether it is on by default."""
    from proplint.registry import all_rules

    if output_format == "json":
        import json

        click.echo(json.dumps([{"code": r.code, "name": r.name, "summary": r.summary, "fix": r.fix,
                                "default_enabled": r.default_enabled, "url": r.url()}
                               for r in all_rules().values()], indent=2))
        return
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
              help="Append it to PATH/pyproject.toml (never over a table).")
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
