"""`airlock serve` under load on loopback: latency and throughput of allowlisted decisions.

A real server (`fixtures.service.ServiceProcess`, uvicorn on 127.0.0.1) holds a signed allowlist;
a load generator in a second process (keep-alive HTTP/1.1 connections, one thread each) sends
`REQUESTS` allowlisted admissions, then the same number of AdmissionReviews, each bounded by
`TIME_LIMIT_S`. Reported: p50/p99 latency (microseconds, seen by the client), requests per second,
the server's resident memory after the load, and the time from an unknown model's first request to
its scan's verdict (the model on a local Hub stand-in). Two cores run server and load generator both.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REQUESTS = 2000
CONCURRENCY = 8
TIME_LIMIT_S = 60.0


def run(work: Path, requests: int = REQUESTS, concurrency: int = CONCURRENCY) -> list[dict[str, Any]]:
    import numpy as np
    from safetensors.numpy import save

    from fixtures.hub_server import HubRepo, HubServer
    from fixtures.service import TOKEN, ServiceProcess

    root = work / "service"
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir(parents=True)
    model = root / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(save({"w": np.ones((64, 64), dtype=np.float32)}))
    key, allowlist = root / "bench.key", root / "allowlist.jsonl"
    env = {"AIRLOCK_CACHE_DIR": str(root / "signer-cache")}
    for args in (["keygen", key], ["sign", model, "--key", key, "--allowlist", allowlist]):
        subprocess.run([sys.executable, "-m", "airlock", *map(str, args)], check=True, env={**_env(), **env})
    digest = json.loads(allowlist.read_text().splitlines()[1])["body"]["model"]
    rows = []
    with HubServer() as hub:
        hub_env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(root / "hf-home")}
        with ServiceProcess(allowlist, [Path(f"{key}.pub")], root / "server", env=hub_env) as server:
            admission = json.dumps({"reference": digest}).encode()
            review = json.dumps(_review(digest)).encode()
            for case, path, body in (
                ("admissions (allowlisted, HTTP)", "/v1/admissions", admission),
                ("k8s AdmissionReview (allowlisted, HTTP)", "/v1/k8s/admit", review),
            ):
                _load(server.port, path, body, TOKEN, 200, concurrency)  # warm-up
                result = _load(server.port, path, body, TOKEN, requests, concurrency)
                rows.append({"case": case, **result})
            rows.append({"case": "server memory after load", "rss_mib": _rss_mib(server)})
            sha = hub.add_repo(
                HubRepo(
                    "bench/unknown", {"model.safetensors": save({"w": np.zeros((32, 32), dtype=np.float32)})}
                )
            )
            rows.append({"case": "unknown model: first request to verdict", **_first_verdict(server, sha)})
    return rows


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _review(digest: str) -> dict[str, Any]:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "annotations": {"airlock.dev/model": digest}},
    }
    request = {"uid": "bench", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "prod"}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {**request, "operation": "CREATE", "object": pod},
    }


def _load(port: int, path: str, body: bytes, token: str, requests: int, concurrency: int) -> dict[str, Any]:
    """Run the load generator in its own process; its JSON summary comes back on stdout."""
    command = [sys.executable, "-m", "bench.service", str(port), path, token, str(requests), str(concurrency)]
    done = subprocess.run(command, input=body, capture_output=True, check=True, timeout=TIME_LIMIT_S + 30)
    return dict(json.loads(done.stdout))


def _generate(
    port: int, path: str, body: bytes, token: str, requests: int, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + TIME_LIMIT_S
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "concurrency": concurrency,
        "rps": round(len(latencies) / wall),
        "p50_us": round(q[49] * 1e6),
        "p99_us": round(q[98] * 1e6),
        "max_us": round(latencies[-1] * 1e6),
    }


def _rss_mib(server: Any) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


def _first_verdict(server: Any, sha: str) -> dict[str, Any]:
    reference = f"hf://bench/unknown@{sha}"
    started = time.perf_counter()
    _, first = server.json("POST", "/v1/admissions", {"reference": reference})
    answered = time.perf_counter() - started
    while time.perf_counter() - started < TIME_LIMIT_S:
        _, scan = server.json("GET", first["report"])
        if scan["status"] in ("done", "error"):
            return {
                "first_answer": first["decision"],
                "first_answer_s": answered,
                "verdict": scan["verdict"] or scan["error"],
                "verdict_after_s": time.perf_counter() - started,
            }
        time.sleep(0.05)
    return {"first_answer": first["decision"], "verdict": f"none within {TIME_LIMIT_S:.0f} s"}


if __name__ == "__main__":
    port, path, token, count, workers = sys.argv[1:6]
    summary = _generate(int(port), path, sys.stdin.buffer.read(), token, int(count), int(workers))
    sys.stdout.write(json.dumps(summary) + "\n")
