"""deploy/kubernetes: the manifests parse, and their key fields agree with each other and with the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from airlock.cli.main import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def _documents() -> list[dict[str, Any]]:
    found = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        found.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return found


def _one(kind: str) -> dict[str, Any]:
    matching = [d for d in _documents() if d["kind"] == kind]
    assert len(matching) == 1, kind
    return matching[0]


def test_the_webhook_fails_closed_and_points_at_the_admission_endpoint() -> None:
    config = _one("ValidatingWebhookConfiguration")
    assert config["apiVersion"] == "admissionregistration.k8s.io/v1"
    [hook] = config["webhooks"]
    assert hook["failurePolicy"] == "Fail" and hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert 1 <= hook["timeoutSeconds"] <= 30  # the API server's own bounds
    assert hook["matchConditions"] and all({"name", "expression"} <= set(c) for c in hook["matchConditions"])
    service = _one("Service")
    target = hook["clientConfig"]["service"]
    assert (target["name"], target["namespace"], target["path"]) == (
        service["metadata"]["name"],
        service["metadata"]["namespace"],
        "/v1/k8s/admit",
    )
    assert target["port"] == service["spec"]["ports"][0]["port"]
    resources = {(g, r) for rule in hook["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert {("serving.kserve.io", "inferenceservices"), ("", "pods"), ("apps", "deployments")} <= resources
    exempt = _one("Namespace")
    assert exempt["metadata"]["name"] == target["namespace"]
    assert exempt["metadata"]["labels"]["airlock.dev/exempt"] == "true"


def test_the_deployment_runs_a_valid_serve_command_behind_the_service() -> None:
    deployment = _one("Deployment")
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert _one("Service")["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    args = build_parser().parse_args(container["args"])
    assert args.command == "serve" and args.tls_cert and args.tls_key and args.token_file
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for path in (args.allowlist, args.tls_cert, args.token_file, *args.pubkey):
        assert str(path.parent) in mounts, path
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == args.port
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    account = _one("ServiceAccount")
    assert pod["spec"]["serviceAccountName"] == account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False
