"""The rule pages in docs/rules are the rules' own documentation, and they are complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from proplint import docs
from proplint.registry import all_rules
from proplint.cli import main

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "docs" / "rules"
SECTIONS = ("What it does", "Why it breaks tracing", "Example", "Use instead", "Fix safety")
CODES = sorted(all_rules())


@pytest.mark.parametrize("code", CODES)
def test_rule_page_is_its_documentation(code):
    page = RULES_DIR / f"{code}.md"
    assert page.is_file(), f"{page} missing: run `python -m proplint.docs`"
    assert page.read_text(encoding="utf-8") == all_rules()[code].documentation(), \
        f"{page} is stale: run `python -m proplint.docs`"


@pytest.mark.parametrize("code", CODES)
def test_documentation_has_every_section(code):
    rule = all_rules()[code]
    text = rule.documentation()
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    for section in SECTIONS:
        assert section in headings, f"{code} lacks '## {section}'"
    assert headings.index("What it does") < headings.index("Example") < headings.index("Use instead") \
        < headings.index("Fix safety")
    assert text.startswith(f"# {code} {rule.name}\n")
    for section in SECTIONS:
        body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert body.strip().strip("`").strip(), f"{code}: section '{section}' is empty"
    assert rule.fix in ("always safe", "sometimes safe", "unsafe", "none")


@pytest.mark.parametrize("code", CODES)
def test_documented_examples_compile_or_are_the_parse_error_rule(code):
    text = all_rules()[code].documentation()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 2
    example, use_instead = blocks
    compile(use_instead, f"{code}-use-instead", "exec")
    if code == "PRP001":
        with pytest.raises(SyntaxError):
            compile(example, f"{code}-example", "exec")
    else:
        compile(example, f"{code}-example", "exec")


def test_every_code_in_docs_rules_has_a_rule():
    rules = all_rules()
    mentioned = set()
    for page in RULES_DIR.glob("*.md"):
        mentioned |= set(re.findall(r"\bPRP\d{3}\b", page.read_text(encoding="utf-8")))
        if page.name != "README.md":
            assert page.stem in rules, f"{page.name} documents no rule"
    assert mentioned, "no rule code found in docs/rules"
    assert mentioned <= set(rules), f"unknown codes in docs/rules: {sorted(mentioned - set(rules))}"


def test_index_lists_every_rule():
    index = (RULES_DIR / "README.md").read_text(encoding="utf-8")
    assert index == docs.index_page()
    for code, rule in all_rules().items():
        row = next(line for line in index.splitlines() if line.startswith(f"| [{code}]({code}.md) |"))
        assert rule.name in row and rule.fix in row


def test_cli_rule_prints_the_page():
    result = CliRunner().invoke(main, ["rule", "PRP101"])
    assert result.exit_code == 0, result.output
    assert result.output == all_rules()["PRP101"].documentation() + "\n"
    lower = CliRunner().invoke(main, ["rule", "prp101"])
    assert lower.exit_code == 0 and lower.output == result.output


def test_generator_check_mode(tmp_path, capsys):
    out = tmp_path / "rules"
    assert docs.main(["--check", "--out", str(out)]) == 1
    assert "missing:" in capsys.readouterr().out
    assert not out.exists(), "--check must write nothing"

    assert docs.main(["--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{c}.md" for c in CODES] + ["README.md"])
    assert (out / "PRP101.md").read_text(encoding="utf-8") == all_rules()["PRP101"].documentation()
    assert docs.main(["--check", "--out", str(out)]) == 0

    (out / "PRP101.md").write_text("# edited by hand\n", encoding="utf-8")
    (out / "PRP999.md").write_text("# gone\n", encoding="utf-8")
    (out / "PRP102.md").unlink()
    capsys.readouterr()
    assert docs.main(["--check", "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert f"stale: {out / 'PRP101.md'}" in report
    assert f"missing: {out / 'PRP102.md'}" in report
    assert f"no such rule: {out / 'PRP999.md'}" in report
    assert "PRP103" not in report

    assert docs.main(["--out", str(out)]) == 0
    assert not (out / "PRP999.md").exists()
    assert docs.main(["--check", "--out", str(out)]) == 0


def test_repository_docs_are_up_to_date():
    assert docs.problems(RULES_DIR) == []


# --- docs/catalog.md and docs/index.md ------------------------------------------------------------------

CATALOG_DOC = ROOT / "docs" / "catalog.md"
INDEX_DOC = ROOT / "docs" / "index.md"


def _role_sections(text: str) -> dict[str, str]:
    parts = re.split(r"^### `\[\[(\w+)\]\]`", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_catalog_doc_describes_every_role_and_key():
    import dataclasses

    from proplint import registry

    roles = {cls.ROLE: cls for cls in registry.all_roles()}
    sections = _role_sections(CATALOG_DOC.read_text(encoding="utf-8"))
    # The shared roles and the HTTP family's must be documented; a family still being written may
    # document its roles later, but whatever is documented must match the dataclass exactly.
    required = {name for name, cls in roles.items()
                if cls.__module__ == "proplint.core.catalog" or cls.__module__.startswith("proplint.families.http")}
    assert required >= {"http_client", "http_library", "instrumentor", "injector", "extractor",
                        "propagator_class", "telemetry_base"}
    assert required <= set(sections), f"undocumented roles: {sorted(required - set(sections))}"
    assert set(sections) <= set(roles), f"documented roles that do not exist: " \
        f"{sorted(set(sections) - set(roles))}"
    for role_name in sections:
        cls = roles[role_name]
        documented = set(re.findall(r"^\| `(\w+)` \|", sections[role_name], flags=re.MULTILINE))
        fields = {f.name for f in dataclasses.fields(cls)}
        assert documented == fields, f"[[{role_name}]]: documented {sorted(documented)}, fields {sorted(fields)}"
        for f in dataclasses.fields(cls):
            row = next(line for line in sections[role_name].splitlines() if line.startswith(f"| `{f.name}` |"))
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            default_cell = row.split("|")[3].strip()
            assert (default_cell == "") == required, f"[[{role_name}]].{f.name}: default column is wrong"


def test_catalog_doc_example_file_works(tmp_path):
    text = CATALOG_DOC.read_text(encoding="utf-8")
    example = next(b for b in re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
                   if b.startswith("# tools/proplint-catalog.toml"))
    from conftest import write_project

    code = "import acme.net\nsession = acme.net.HttpSession()\n"
    files = {"tools/proplint-catalog.toml": example}
    p = write_project(tmp_path / "p", code, {"catalogs": ["tools/proplint-catalog.toml"]}, files)
    assert [f.code for f in p.check()] == ["PRP103"]
    without = write_project(tmp_path / "q", code)
    assert without.check() == []
    files["telemetry.py"] = "import acme.telemetry\nacme.telemetry.instrument_requests()\n"
    instrumented = write_project(tmp_path / "r", code, {"catalogs": ["tools/proplint-catalog.toml"]}, files)
    assert instrumented.check() == []


def test_index_doc_config_example_is_valid_and_complete(tmp_path):
    from proplint.config import ConfigError, _parse, tomllib

    text = INDEX_DOC.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL) if "[tool.proplint]" in b)
    table = tomllib.loads(block)["tool"]["proplint"]
    keys = {"select", "ignore", "per-file-ignores", "exclude", "target-version", "http-client-factory",
            "injectors", "extractors", "catalogs", "trace-context-key", "scope", "external", "src"}
    assert set(table) == keys
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "proplint-catalog.toml").write_text("", encoding="utf-8")
    config = _parse(table, tmp_path, None)
    assert config.http_client_factory == "svc.shared.http_client:traced_client"
    assert config.ignored_for("tests/test_x.py") == ("PRP1",)
    with pytest.raises(ConfigError, match="unknown key"):
        _parse({"not-a-key": 1}, tmp_path, None)
    assert 'lint.external = ["PRP"]' in text


PAGES = sorted((ROOT / "docs").rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_speak_to_users(page):
    """No internal material (the design seeds), no test markers in examples, no promises of what is to come,
    and no section body indented into a code block."""
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"\bseed[- ]?\d{3}\b", text, flags=re.I), f"{page.name} mentions an internal seed"
    assert "# expect:" not in text, f"{page.name}: an example carries a test marker"
    assert not re.search(r"\b(are|is) (still )?to come\b", text), f"{page.name} promises what is to come"
    for heading, body in re.findall(r"^## ([^\n]+)\n((?:(?!^## ).*\n?)*)", text, flags=re.M):
        first = next((line for line in body.splitlines() if line.strip()), "")
        assert not first.startswith("    "), f"{page.name}: '## {heading}' is indented into a code block"
