"""Rule data never changes without a VERSION bump, a CHANGELOG entry and a fresh MANIFEST."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.signatures import manifest


def test_signatures_match_the_manifest_for_their_version() -> None:
    assert manifest.problems() == []


def test_changelog_versions_are_unique_and_the_manifest_names_the_newest() -> None:
    versions = manifest.changelog_versions()
    assert len(versions) == len(set(versions))
    assert manifest.recorded().version == versions[0] == manifest.version()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "signatures"
    shutil.copytree(manifest.SIGNATURES, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert manifest.problems(root) == []
    return root


def test_a_rule_edit_without_a_bump_is_caught(copy: Path) -> None:
    rules = copy / "rules" / "pickle.toml"
    rules.write_text(rules.read_text().replace('severity = "critical"', 'severity = "high"', 1))
    [problem] = manifest.problems(copy)
    assert "bump VERSION" in problem
    with pytest.raises(SystemExit, match="bump it first"):
        manifest.write(copy)


def test_a_bump_needs_a_changelog_entry_then_a_fresh_manifest(copy: Path) -> None:
    (copy / "rules" / "new-family.toml").write_text("")
    (copy / "VERSION").write_text("2099.1.0\n")
    assert any("make signatures-manifest" in p for p in manifest.problems(copy))
    with pytest.raises(SystemExit, match=r"no entry `## 2099\.1\.0`"):
        manifest.write(copy)
    changelog = copy / "CHANGELOG.md"
    head, rest = changelog.read_text().split("\n## ", 1)
    changelog.write_text(f"{head}\n## 2099.1.0\n\n- new-family.toml\n\n## {rest}")
    manifest.write(copy)
    assert manifest.problems(copy) == []
