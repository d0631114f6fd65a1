"""`airlock serve` under load on loopback: latency and throughput of allowlisted decisions.

A real server (`fixtures.service.ServiceProcess`, uvicorn on 127.0.0.1) holds a signed allowlist;
a load generator in a second process sends allowlisted admissions over HTTP, then AdmissionReviews
over HTTP and over HTTPS (a self-signed certificate), each for `DURATION_S` after a short warm-up.
The generator is `wrk` (Debian's package, installed with apt when running as root): one thread,
`CONNECTIONS` keep-alive connections. Without wrk, a Python generator (threads over http.client,
`REQUESTS` requests) stands in, and the rows say so. Reported: requests per second, p50/p99 latency
seen by the client (microseconds), the server's resident memory after the load (steady state), and
the time from an unknown model's first request to its scan's verdict (the model on a local Hub
stand-in). When PostgreSQL is installed, the AdmissionReview case runs again on a PostgreSQL
database (`--db postgresql://…`, a throwaway local server). Server and load generator share the
machine's cores: run `taskset -c 0,1 python -m bench service` to hold it to two.

The saturating cases measure latency at the most the server can take, where p99 is mostly queueing.
The paced cases ask "p99 at about `PACED_RPS` requests per second": `PACED_CONNECTIONS` connections,
each waiting a fixed delay after every answer (wrk's `delay()`), and report the rate they reached.
"""

from __future__ import annotations

import functools
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
CONNECTIONS = 8
DURATION_S = 10
PACED_RPS = 1000
PACED_CONNECTIONS = 16
# each connection's pause after an answer: aims a little above PACED_RPS, since answers take time too
PACED_DELAY_MS = PACED_CONNECTIONS * 1000 // (PACED_RPS + 100)
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
    from fixtures.service import self_signed

    rows: list[dict[str, Any]] = []
    pubkeys = [Path(f"{key}.pub")]
    admission = json.dumps({"reference": digest}).encode()
    review = json.dumps(_review(digest)).encode()
    with HubServer() as hub:
        hub_env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(root / "hf-home")}
        with ServiceProcess(allowlist, pubkeys, root / "server", env=hub_env) as server:
            for case, path, body in (
                ("admissions (allowlisted, HTTP)", "/v1/admissions", admission),
                ("k8s AdmissionReview (allowlisted, HTTP)", "/v1/k8s/admit", review),
            ):
                rows.append({"case": case, **_measure(server, path, body, TOKEN, concurrency)})
                paced = f"{case}, paced at ~{PACED_RPS}/s"
                rows.append({"case": paced, **_measure(server, path, body, TOKEN, concurrency, paced=True)})
            rows.append({"case": "server memory after load (SQLite)", "rss_mib": _rss_mib(server)})
            sha = hub.add_repo(
                HubRepo(
                    "bench/unknown", {"model.safetensors": save({"w": np.zeros((32, 32), dtype=np.float32)})}
                )
            )
            rows.append({"case": "unknown model: first request to verdict", **_first_verdict(server, sha)})
        tls = self_signed(root / "tls")
        with ServiceProcess(allowlist, pubkeys, root / "server-tls", env=hub_env, tls=tls) as server:
            case = "k8s AdmissionReview (allowlisted, HTTPS)"
            rows.append({"case": case, **_measure(server, "/v1/k8s/admit", review, TOKEN, concurrency)})
            paced = f"{case}, paced at ~{PACED_RPS}/s"
            rows.append(
                {"case": paced, **_measure(server, "/v1/k8s/admit", review, TOKEN, concurrency, paced=True)}
            )
            rows.append({"case": "server memory after load (HTTPS)", "rss_mib": _rss_mib(server)})
        rows.extend(_postgres_rows(allowlist, pubkeys, root, hub_env, review, concurrency))
    return rows


def _postgres_rows(
    allowlist: Path,
    pubkeys: list[Path],
    root: Path,
    env: dict[str, str],
    review: bytes,
    concurrency: int,
) -> list[dict[str, Any]]:
    from fixtures import postgres
    from fixtures.service import TOKEN, ServiceProcess

    if postgres.binaries() is None:
        return [{"case": "k8s AdmissionReview on PostgreSQL", "skipped": "PostgreSQL is not installed"}]
    with postgres.PostgresServer() as pg:
        db = pg.database()
        with ServiceProcess(allowlist, pubkeys, root / "server-pg", env=env, db=db) as server:
            case = "k8s AdmissionReview (allowlisted, HTTP, PostgreSQL)"
            return [{"case": case, **_measure(server, "/v1/k8s/admit", review, TOKEN, concurrency)}]


@functools.cache
def _wrk() -> str | None:
    """The wrk binary; installed with apt when missing and running as root; None when unavailable."""
    import os
    import shutil

    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(command, capture_output=True, check=False, timeout=600)
        found = shutil.which("wrk")
    return found


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = io.open(os.getenv("BODY_FILE"), "rb"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local pause = tonumber(os.getenv("DELAY_MS") or "0")
if pause > 0 then
  delay = function() return pause end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    server: Any, path: str, body: bytes, token: str, concurrency: int, paced: bool = False
) -> dict[str, Any]:
    """Load `path` with `body`; also the server's CPU time per request, which a busy machine (a high
    load average) inflates much less than it inflates latency."""
    pid = server.process.pid
    _generate_load(server.url, path, body, token, concurrency, seconds=2, paced=paced)  # warm-up
    started = _cpu_s(pid)
    result = _generate_load(server.url, path, body, token, concurrency, paced=paced)
    requests = result.get("requests") or 0
    if requests:
        result["server_cpu_us_per_request"] = round((_cpu_s(pid) - started) / requests * 1e6)
    return result


def _generate_load(
    url: str,
    path: str,
    body: bytes,
    token: str,
    concurrency: int,
    seconds: int = DURATION_S,
    paced: bool = False,
) -> dict[str, Any]:
    wrk = _wrk()
    if wrk is None and paced:
        return {"skipped": "paced load needs wrk"}
    if wrk is None:
        port = int(url.rsplit(":", 1)[1])
        if url.startswith("https"):
            return {"skipped": "HTTPS needs wrk"}
        count = REQUESTS * seconds // DURATION_S
        return {"generator": "python threads", **_load(port, path, body, token, count, concurrency)}
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="airlock-wrk-") as tmp:
        script, body_file = Path(tmp, "post.lua"), Path(tmp, "body.json")
        script.write_text(_WRK_SCRIPT)
        body_file.write_bytes(body)
        connections = PACED_CONNECTIONS if paced else CONNECTIONS
        env = {**os.environ, "BODY_FILE": str(body_file), "TOKEN": token}
        env["DELAY_MS"] = str(PACED_DELAY_MS if paced else 0)

        def wrk_run(seconds: int) -> dict[str, Any]:
            command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url + path]
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
            if done.returncode != 0:
                raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
            return dict(json.loads(done.stdout.strip().splitlines()[-1]))

        load_before = os.getloadavg()[0]
        result = wrk_run(seconds)
        load_after = os.getloadavg()[0]
    return {
        "generator": f"wrk -t1 -c{connections} -d{seconds}s"
        + (f", {PACED_DELAY_MS} ms pause per connection" if paced else ""),
        "requests": result["requests"],
        "errors": result["errors"] + result["non_2xx"],
        "rps": round(result["requests"] / (result["duration_us"] / 1e6)),
        "p50_us": result["p50_us"],
        "p99_us": result["p99_us"],
        "max_us": result["max_us"],
        "loadavg_1m": f"{load_before:.2f}->{load_after:.2f}",
    }


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
