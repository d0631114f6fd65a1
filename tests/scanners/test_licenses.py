"""Licence policy: the real all-MiniLM-L6-v2 card (apache-2.0) passes an allow list and fails a deny
list; disagreement between card, LICENSE file and weights metadata; unknown licences fail or warn;
base-model and dataset licences from cards in the Hugging Face cache; the BOMs carry the licence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from airlock.errors import PolicyError
from airlock.licenses import catalog
from airlock.policy import parse_policy
from fixtures.real_models import minilm_dir

MIT = """MIT License

Copyright (c) 2026 Example Labs

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def _policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text('name = "legal"\n' + body)
    return path


def _scan(cli, target: Path, *extra: str) -> tuple[int, dict]:
    result = cli("scan", str(target), "--format", "json", "--no-progress", *extra)
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def _rules(report: dict) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in report["findings"] if f["scanner"] == "licenses"}


def _small_model(folder: Path, card: str, metadata: dict[str, str] | None = None) -> Path:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    save_file({"w": np.eye(2, dtype=np.float32)}, str(folder / "model.safetensors"), metadata=metadata)
    (folder / "README.md").write_text(f"---\n{card}\n---\n# a model\n")
    return folder


def test_real_card_passes_an_allow_list_and_fails_a_deny_list(cli, tmp_path: Path) -> None:
    allowed = _policy(tmp_path, '[licenses]\nallow = ["Apache-2.0", "MIT"]\n')
    code, report = _scan(cli, minilm_dir(), "--policy", str(allowed))
    assert code == 0 and _rules(report) == {}
    assert next(c for c in report["checks"] if c["scanner"] == "licenses")["status"] == "ran"

    denied = _policy(tmp_path, '[licenses]\ndeny = ["apache-2.0"]\n')
    code, report = _scan(cli, minilm_dir(), "--policy", str(denied))
    assert code == 1 and _rules(report) == {"AIR461": "high"}
    [finding] = report["findings"]
    assert finding["evidence"]["license"] == "Apache-2.0" and "denied" in finding["message"]

    not_listed = _policy(tmp_path, '[licenses]\nallow = ["MIT"]\n')
    code, report = _scan(cli, minilm_dir(), "--policy", str(not_listed))
    assert code == 1 and "not on the policy's allow list" in report["findings"][0]["message"]


def test_a_license_file_that_disagrees_with_the_card(cli, tmp_path: Path) -> None:
    model = Path(shutil.copytree(minilm_dir(), tmp_path / "minilm"))
    (model / "LICENSE").write_text(MIT)
    code, report = _scan(cli, model)
    assert code == 0 and _rules(report) == {"AIR463": "medium"}  # no [licenses]: only the disagreement
    [finding] = report["findings"]
    assert "Apache-2.0" in finding["message"] and "(MIT)" in finding["message"]
    # the policy checks every licence named: the LICENSE file's MIT is not allowed
    code, report = _scan(
        cli, model, "--policy", str(_policy(tmp_path, '[licenses]\nallow = ["Apache-2.0"]\n'))
    )
    assert code == 1
    [denied] = [f for f in report["findings"] if f["rule"] == "AIR461"]
    assert denied["artifact"] == "LICENSE" and denied["evidence"]["license"] == "MIT"


def test_weights_metadata_disagree_with_the_card(cli, tmp_path: Path) -> None:
    model = _small_model(tmp_path / "m", "license: apache-2.0", {"license": "cc-by-nc-4.0"})
    _, report = _scan(cli, model)
    [finding] = [f for f in report["findings"] if f["rule"] == "AIR463"]
    assert "CC-BY-NC-4.0" in finding["message"]


def test_gguf_general_license_is_read(cli, tmp_path: Path) -> None:
    import gguf

    folder = tmp_path / "g"
    folder.mkdir()
    writer = gguf.GGUFWriter(str(folder / "model.gguf"), "llama")
    writer.add_string("general.license", "llama3.1")
    writer.add_tensor("w", np.eye(2, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (folder / "README.md").write_text("---\nlicense: mit\n---\n")
    _, report = _scan(cli, folder, "--policy", str(_policy(tmp_path, '[licenses]\ndeny = ["llama3.1"]\n')))
    assert set(_rules(report)) == {"AIR461", "AIR463"}


@pytest.mark.parametrize("mode, severity, code", [("fail", "high", 1), ("warn", "low", 0)])
def test_unknown_license_fails_or_warns(cli, tmp_path: Path, mode: str, severity: str, code: int) -> None:
    model = _small_model(tmp_path / "m", "license: other")
    policy = _policy(tmp_path, f'[licenses]\nallow = ["MIT"]\nunknown = "{mode}"\n')
    got, report = _scan(cli, model, "--policy", str(policy))
    assert got == code and _rules(report) == {"AIR462": severity}
    # a license_name the data knows names it
    named = _small_model(tmp_path / "n", "license: other\nlicense_name: llama3.2\nlicense_link: LICENSE")
    _, report = _scan(cli, named, "--policy", str(policy))
    assert _rules(report) == {"AIR461": "high"} and report["findings"][0]["evidence"]["license"] == "llama3.2"


def _hub_cache_card(cache: Path, repo_id: str, kind: str, card: str, *, ref: bool = True) -> None:
    """A card as huggingface_hub caches a download (refs/main → snapshots/<sha>/README.md; a download
    pinned to a commit writes no ref)."""
    folder = cache / f"{kind}s--{repo_id.replace('/', '--')}"
    sha = "0" * 40
    (folder / "refs").mkdir(parents=True)
    if ref:
        (folder / "refs" / "main").write_text(sha)
    (folder / "snapshots" / sha).mkdir(parents=True)
    (folder / "snapshots" / sha / "README.md").write_text(f"---\n{card}\n---\n")


def test_base_model_and_dataset_licences_from_the_hub_cache(cli, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    _hub_cache_card(cache, "meta-llama/Llama-3.1-8B", "model", "license: llama3.1")
    _hub_cache_card(cache, "example/research-only", "dataset", "license: cc-by-nc-4.0", ref=False)
    _hub_cache_card(cache, "example/open-data", "dataset", "license: cc-by-4.0")
    card = (
        "license: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\n"
        "datasets:\n- example/research-only\n- example/open-data\n- example/not-here"
    )
    _, report = _scan(cli, _small_model(tmp_path / "ft", card))
    assert _rules(report) == {"AIR464": "medium", "AIR465": "medium"}
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert by_rule["AIR464"]["evidence"]["base_license"] == "llama3.1"
    assert by_rule["AIR465"]["evidence"]["dataset"] == "example/research-only"
    # the same licence as the base: no finding
    _, report = _scan(
        cli, _small_model(tmp_path / "same", "license: llama3.1\nbase_model: meta-llama/Llama-3.1-8B")
    )
    assert _rules(report) == {}


def test_the_boms_carry_the_licence(cli, tmp_path: Path) -> None:
    from tests.integration.test_bom import assert_valid_cyclonedx, by_type

    model = _small_model(tmp_path / "m", "license: llama3.1")
    bom = cli("scan", str(model), "--format", "cyclonedx", "--no-progress").json()
    assert_valid_cyclonedx(bom)
    assert bom["metadata"]["component"]["licenses"] == [{"license": {"name": "Llama 3.1 Community License"}}]
    doc = cli("scan", str(model), "--format", "spdx", "--no-progress").json()
    [licence] = by_type(doc, "simplelicensing_LicenseExpression")
    assert licence["simplelicensing_licenseExpression"] == "LicenseRef-llama3.1"
    real = cli("scan", str(minilm_dir()), "--format", "cyclonedx", "--no-progress").json()
    assert real["metadata"]["component"]["licenses"] == [{"license": {"id": "Apache-2.0"}}]


def test_policy_licence_input_is_validated() -> None:
    with pytest.raises(PolicyError, match="not a licence airlock knows"):
        parse_policy('[licenses]\nallow = ["apache"]\n', "p.toml")
    with pytest.raises(PolicyError, match="names no licence"):
        parse_policy('[licenses]\ndeny = ["other"]\n', "p.toml")
    with pytest.raises(PolicyError, match='"fail" or "warn"'):
        parse_policy('[licenses]\nunknown = "ignore"\n', "p.toml")
    with pytest.raises(PolicyError, match="both allowed and denied"):
        parse_policy('[licenses]\nallow = ["mit"]\ndeny = ["MIT License"]\n', "p.toml")
    policy = parse_policy('[licenses]\nallow = ["apache-2.0", "Llama 3.1", "openrail++"]\n', "p.toml")
    assert policy.licenses is not None and policy.licenses.allow == {"Apache-2.0", "llama3.1", "openrail++"}


def test_the_spdx_ids_in_the_data_are_spdx_ids() -> None:
    """Every licence marked SPDX is in the SPDX licence list CycloneDX validates against; no model licence is."""
    import importlib.resources

    schema = importlib.resources.files("cyclonedx.schema._res").joinpath("spdx.SNAPSHOT.schema.json")
    listed = set(json.loads(schema.read_text())["enum"])
    licences = catalog().licenses.values()
    assert {lic.id for lic in licences if lic.spdx} <= listed
    assert not {lic.id for lic in licences if not lic.spdx} & listed
