"""Generated documentation stays current: docs/rules.md is what `airlock rules --format markdown` prints."""

from __future__ import annotations

from tests.conftest import REPO


def test_rules_page_is_current(cli) -> None:
    result = cli("rules", "--format", "markdown")
    assert result.code == 0
    page = (REPO / "docs" / "rules.md").read_text()
    assert page == result.out, "docs/rules.md is stale: run `airlock rules --format markdown > docs/rules.md`"


def test_rules_page_lists_every_rule_with_an_anchor(cli) -> None:
    from airlock.rules import load_rules

    page = (REPO / "docs" / "rules.md").read_text()
    for rule in load_rules():
        assert f"\n## {rule.id}\n" in page and f"[{rule.id}](#{rule.id.lower()})" in page


def test_readme_links_the_generated_pages() -> None:
    readme = (REPO / "README.md").read_text()
    for target in ("docs/rules.md", "action.yml", ".pre-commit-hooks.yaml", "docs/ci/"):
        assert f"]({target}" in readme, target
