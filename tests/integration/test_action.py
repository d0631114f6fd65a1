"""The GitHub Action (action.yml) run step by step the way the runner does, against fixture models.

Each `run:` step goes to `bash --noprofile --norc -eo pipefail` (the runner's `shell: bash`) with its
`env:` expressions substituted, a fresh `$GITHUB_OUTPUT` file per step and one `$GITHUB_STEP_SUMMARY`;
`uses:` steps (setup-python, the cache, the SARIF upload) are the runner's business and are skipped,
but their expressions must resolve. Installation is skipped (`install: false`): the dev environment's
airlock is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import yaml

from fixtures import datasets, formats, pickles
from fixtures.real_models import minilm_dir
from tests.conftest import REPO

SARIF_SCHEMA = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())
ACTION = yaml.safe_load((REPO / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Run:
    """What a workflow run of the action left behind."""

    summary: str
    outputs: dict[str, str]
    codes: dict[str, int] = field(default_factory=dict)  # step name -> exit code
    skipped: list[str] = field(default_factory=list)
    uses: dict[str, dict[str, str]] = field(default_factory=dict)  # step name -> rendered `with:`

    @property
    def failed_with(self) -> int:
        return self.codes["Fail on the verdict"]


class Context:
    def __init__(self, inputs: dict[str, str], root: Path) -> None:
        defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        unknown = set(inputs) - set(defaults)
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs = {**defaults, **inputs}
        self.values = {
            "github.action_path": str(REPO),
            "github.run_id": "42",
            "github.run_attempt": "1",
            "runner.temp": str(root / "runner-temp"),
            "runner.os": "Linux",
        }
        self.steps: dict[str, dict[str, str]] = {}

    def value(self, expr: str) -> str:
        if expr.startswith("inputs."):
            return self.inputs[expr.removeprefix("inputs.")]
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if match:
            return self.steps.get(match[1], {}).get(match[2], "")
        return self.values[expr]  # anything else the test does not know fails loudly

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), str(text))

    def condition(self, text: str | None) -> bool:
        if text is None:
            return True
        result = True
        for term in (t.strip() for t in text.split("&&")):
            if term == "always()":
                continue
            match = re.fullmatch(r"([\w.-]+)\s*(==|!=)\s*'([^']*)'", term)
            assert match, f"condition the test cannot evaluate: {term!r}"
            equal = self.value(match[1]) == match[3]
            result = result and (equal if match[2] == "==" else not equal)
        return result


def run_action(inputs: dict[str, str], root: Path) -> Run:
    ctx = Context(inputs, root)
    (root / "runner-temp").mkdir(parents=True, exist_ok=True)
    summary = root / "step-summary.md"
    summary.touch()
    workspace = root / "workspace"
    workspace.mkdir(exist_ok=True)
    result = Run(summary="", outputs={})
    env_base = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(workspace),
    }
    env_base.pop("AIRLOCK_CACHE_DIR", None)  # the action sets its own
    for n, step in enumerate(ACTION["runs"]["steps"]):
        name = step["name"]
        if not ctx.condition(step.get("if")):
            result.skipped.append(name)
            continue
        if "uses" in step:
            result.uses[name] = {k: ctx.substitute(v) for k, v in step.get("with", {}).items()}
            continue
        assert step["shell"] == "bash" and "${{" not in step["run"], name  # no expression inside a script
        output = root / f"output-{n}"
        output.touch()
        script = root / f"step-{n}.sh"
        script.write_text(step["run"])
        env = {**env_base, **{k: ctx.substitute(v) for k, v in step.get("env", {}).items()}}
        env["GITHUB_OUTPUT"] = str(output)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        result.codes[name] = done.returncode
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if "id" in step:
            ctx.steps[step["id"]] = outputs
        assert done.returncode == 0 or name == "Fail on the verdict", (name, done.stdout, done.stderr)
    result.summary = summary.read_text()
    result.outputs = {k: ctx.substitute(v["value"]) for k, v in ACTION["outputs"].items()}
    return result


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("action-models")
    evil = root / "evil"
    evil.mkdir()
    pickles.os_system_canary(evil)
    small = root / "small"
    small.mkdir()
    formats.safetensors_file(small)
    (small / "config.json").write_text('{"model_type": "bert"}\n')
    config_only = root / "config-only"  # no model file: AIR442, medium
    config_only.mkdir()
    (config_only / "config.json").write_text('{"model_type": "bert"}\n')
    clean = Path(shutil.copytree(minilm_dir(), root / "minilm"))
    return {"evil": evil, "clean": clean, "small": small, "config_only": config_only}


@pytest.mark.slow
def test_scan_mode_writes_the_summary_and_sarif_and_fails_on_the_verdict(models, tmp_path: Path) -> None:
    run = run_action(
        {
            "references": f"{models['clean']}\n{models['evil']}",
            "formats": "sarif, markdown, html",
            "install": "false",
            "python-version": "",
        },
        tmp_path,
    )
    assert run.outputs["exit-code"] == "1" and run.outputs["decision"] == "fail"
    assert run.failed_with == 1  # the step fails, after everything was written
    assert run.summary.startswith("## ❌ airlock: FAIL, 2 models (1 passed, 1 failed")
    assert "AIR201" in run.summary
    sarif = json.loads((tmp_path / "workspace" / run.outputs["sarif"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert [len(r["results"]) > 0 for r in sarif["runs"]] == [False, True]
    assert "AIR201" in {r["ruleId"] for r in sarif["runs"][1]["results"]}
    assert (tmp_path / "workspace" / "airlock-results" / "airlock.html").read_text().count("<iframe") == 2
    # the cache the action saves and restores is the folder airlock used
    cache = tmp_path / "runner-temp" / "airlock-cache"
    assert (cache / "results.sqlite3").is_file()
    assert run.uses["Restore airlock's result cache"]["path"] == str(cache)
    assert run.uses["Save airlock's result cache"]["path"] == str(cache)
    assert "Install airlock" in run.skipped and "Set up Python" in run.skipped
    assert "Upload SARIF to code scanning" in run.skipped


@pytest.mark.slow
def test_scan_mode_passes_and_honours_the_threshold(models, tmp_path: Path) -> None:
    common = {"references": str(models["config_only"]), "install": "false", "python-version": ""}
    passing = run_action(common, tmp_path / "pass")
    assert passing.failed_with == 0 and passing.summary.startswith("## ✅ airlock: PASS")
    assert "### Medium (1)" in passing.summary and "AIR442" in passing.summary
    strict = run_action({**common, "fail-at": "medium", "upload-sarif": "true"}, tmp_path / "strict")
    assert strict.outputs["decision"] == "fail" and strict.failed_with == 1
    assert strict.uses["Upload SARIF to code scanning"]["sarif_file"].endswith("airlock.sarif")


@pytest.mark.slow
def test_verify_mode_admits_a_signed_model_and_refuses_another(cli, models, tmp_path: Path) -> None:
    key, allowlist = tmp_path / "team.key", tmp_path / "allowlist.jsonl"
    assert cli("keygen", key).code == 0
    assert cli("sign", models["small"], "--key", key, "--allowlist", allowlist).code == 0
    inputs = {
        "mode": "verify",
        "allowlist": str(allowlist),
        "public-keys": f"{key}.pub",
        "install": "false",
        "python-version": "",
    }
    admitted = run_action({**inputs, "references": str(models["small"])}, tmp_path / "ok")
    assert admitted.failed_with == 0 and admitted.summary.startswith("## ✅ admitted")
    both = run_action({**inputs, "references": f"{models['small']} {models['evil']}"}, tmp_path / "both")
    assert both.failed_with == 1 and "❌ refused" in both.summary
    decisions = json.loads((tmp_path / "both" / "workspace" / both.outputs["json"]).read_text())
    assert [d["decision"] for d in decisions] == ["admitted", "refused"]


@pytest.mark.slow
def test_data_mode_vets_a_dataset(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    train = datasets.clean_tabular(data)
    run = run_action(
        {
            "mode": "data",
            "dataset": str(train),
            "test-dataset": str(data / "test.csv"),
            "install": "false",
            "python-version": "",
        },
        tmp_path,
    )
    assert run.failed_with == 0, run.summary
    assert run.summary.startswith("## ✅ airlock: PASS")
    sarif = json.loads((tmp_path / "workspace" / run.outputs["sarif"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)


def test_a_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    run = run_action({"install": "false", "python-version": ""}, tmp_path)
    assert run.failed_with == 2 and run.outputs["decision"] == "error"
    assert "could not do the job" in run.summary


@pytest.mark.parametrize("example", sorted((REPO / "docs" / "ci").glob("*.yml")), ids=lambda p: p.name)
def test_the_ci_examples_parse_and_use_real_inputs(example: Path) -> None:
    document = yaml.safe_load(example.read_text())
    uses = [
        step
        for job in document.get("jobs", {}).values()
        if isinstance(job, dict)
        for step in job.get("steps", [])
        if "model-airlock/model-airlock" in step.get("uses", "")
    ]
    for step in uses:
        assert set(step.get("with", {})) <= set(ACTION["inputs"]), step["with"]
    if example.name in ("vet-models.yml", "verify-allowlist.yml"):
        assert uses
    if example.name == "gitlab-ci.yml":
        scripts = " ".join(
            line for job in document.values() if isinstance(job, dict) for line in job.get("script", [])
        )
        for command in ("airlock scan --from", "airlock render", "airlock verify", "airlock data"):
            assert command in scripts
