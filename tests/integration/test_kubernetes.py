"""The kubernetes check type through the real kubernetes client against a local HTTPS API server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import kube
from servers.run_check import run_check, undocumented

from predeploy_tui.core.results import Status
from predeploy_tui.engine.checks._kubequantity import parse_cpu, parse_memory

pytestmark = pytest.mark.integration

CPU_30 = {"each": "nodes[].cpu_free_percent", "gt": 30}
MEM_4GB = {"each": "nodes[].memory_free_bytes", "gt": "4GB"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kube.KubeAPI]:
    server = kube.start(tmp_path_factory.mktemp("kube"))
    yield server
    server.close()


def p(api: kube.KubeAPI, context: str, **extra: object) -> dict[str, object]:
    return {"kubeconfig": str(api.kubeconfig), "context": context, **extra}


async def test_enough_cpu_and_memory(api: kube.KubeAPI) -> None:
    cpu = await run_check("kubernetes", p(api, "roomy"), expect=CPU_30)
    assert cpu.status is Status.PASS, cpu.summary
    assert cpu.summary == "2 of 2 nodes have cpu_free_percent > 30"
    assert cpu.obs is not None
    a, b = cpu.obs.data["nodes"]
    assert undocumented("kubernetes", cpu.obs.data) == []
    assert a == {"name": "node-a", "cpu_allocatable_cores": 3.8, "cpu_used_cores": 1.123443218,
                 "cpu_free_percent": pytest.approx((3.8 - 1.123443218) / 3.8 * 100, rel=1e-12),
                 "memory_allocatable_bytes": 15242256 * 1024,
                 "memory_used_bytes": 5123456 * 1024,
                 "memory_free_bytes": (15242256 - 5123456) * 1024, "gpus": 2}
    assert b["gpus"] == 0
    assert b["cpu_free_percent"] == pytest.approx(78.8365, abs=1e-4)
    assert "2 allocatable GPUs" in cpu.obs.summary
    assert "node-a" in cpu.obs.output.splitlines()[1]
    memory = await run_check("kubernetes", p(api, "roomy"), expect=MEM_4GB)
    assert memory.status is Status.PASS, memory.summary
    # The client really went to both APIs of the chosen cluster.
    assert ("roomy", "/roomy/api/v1/nodes") in api.requests
    assert ("roomy", "/roomy/apis/metrics.k8s.io/v1beta1/nodes") in api.requests


async def test_too_little_cpu_and_memory(api: kube.KubeAPI) -> None:
    cpu = await run_check("kubernetes", p(api, "tight"), expect=CPU_30)
    assert cpu.status is Status.FAIL
    assert cpu.summary.startswith("1 of 2 nodes have cpu_free_percent > 30")
    memory = await run_check("kubernetes", p(api, "tight"), expect=MEM_4GB)
    assert memory.status is Status.FAIL
    assert memory.obs is not None
    tight = memory.obs.data["nodes"][1]
    assert tight["name"] == "node-c"
    assert tight["cpu_free_percent"] == 10.0
    assert tight["memory_free_bytes"] == (15242256 - 12582912) * 1024
    # Without each, the headline is the lowest node's CPU free.
    lowest = await run_check("kubernetes", p(api, "tight"), expect={"ge": "30%"})
    assert lowest.status is Status.FAIL
    assert lowest.summary == "lowest node CPU free 10% < 30%"


async def test_a_node_a_hair_under_the_threshold_is_not_rounded_up_to_it(api: kube.KubeAPI) -> None:
    # Given node-e at 29.96% CPU free and node-f at exactly 30%
    # When the headline (lowest node) and every node are compared with ge: 30
    lowest = await run_check("kubernetes", p(api, "edge"), expect={"ge": 30})
    each = await run_check("kubernetes", p(api, "edge"),
                           expect={"each": "nodes[].cpu_free_percent", "ge": 30})
    # Then 29.96 fails (the raw figure is compared, and the summary does not read "30.0% < 30%")
    assert lowest.status is Status.FAIL, lowest.summary
    assert lowest.summary == "lowest node CPU free 29.96% < 30%"
    assert each.status is Status.FAIL, each.summary
    assert each.summary.startswith("1 of 2 nodes have cpu_free_percent >= 30")
    # And the data holds the exact figures: 30% free is 30.0, not a float a hair under it
    assert each.obs is not None
    e, f = each.obs.data["nodes"]
    assert e["cpu_free_percent"] == 29.96
    assert e["cpu_used_cores"] == 0.7004
    assert f["cpu_free_percent"] == 30.0


async def test_list_a_resource_with_jmespath(api: kube.KubeAPI) -> None:
    out = await run_check("kubernetes", p(api, "roomy", probe="list", resource="/api/v1/nodes",
                                          label_selector="kubernetes.io/os=linux"),
                          expect={"jmespath": "items[?status.conditions[?type=='Ready' && "
                                              "status=='True']] | length(@)", "ge": 2})
    assert out.status is Status.PASS, out.summary
    assert out.obs is not None
    assert out.obs.data["kind"] == "NodeList"
    assert ("roomy", "/roomy/api/v1/nodes?labelSelector=kubernetes.io/os%3Dlinux") in api.requests


@pytest.mark.parametrize(("context", "words"), [
    ("nometrics", "metrics API not available (404 Not Found for metrics.k8s.io): "
                  "is metrics-server installed?"),
    ("forbidden", 'access denied reading nodes (403 Forbidden): nodes is forbidden: User '
                  '"system:serviceaccount:ci:deployer" cannot list resource "nodes"'),
    ("broken", "Kubernetes API error reading nodes (500 Internal Server Error): "
               "etcdserver: request timed out"),
    ("badtoken", "Kubernetes API refused the credentials (401 Unauthorized): Unauthorized"),
])
async def test_api_errors_are_readable(api: kube.KubeAPI, context: str, words: str) -> None:
    out = await run_check("kubernetes", p(api, context), expect=CPU_30, timeout=5)
    assert out.status is Status.ERROR
    assert out.summary.startswith(words), out.summary
    assert "\n" not in out.summary


async def test_a_hanging_api_times_out_within_the_check_timeout(api: kube.KubeAPI) -> None:
    out = await run_check("kubernetes", p(api, "hang"), expect=CPU_30, timeout=1.5)
    assert out.status is Status.ERROR
    assert "did not answer within" in out.summary or "no answer" in out.summary
    assert out.elapsed < 2.5


async def test_unreachable_api_and_bad_kubeconfig(api: kube.KubeAPI, tmp_path: object) -> None:
    import socket
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = api.kubeconfig.read_text().replace(
        f"127.0.0.1:{api.server.server_address[1]}", f"127.0.0.1:{port}")
    moved = Path(str(tmp_path)) / "kubeconfig"
    moved.write_text(text)
    out = await run_check("kubernetes", {"kubeconfig": str(moved), "context": "roomy"}, timeout=3)
    assert out.status is Status.ERROR
    assert out.summary.startswith(f"cannot reach the Kubernetes API at https://127.0.0.1:{port}/roomy")
    assert out.elapsed < 4
    missing = await run_check("kubernetes", p(api, "no-such-context"), timeout=3)
    assert missing.status is Status.ERROR
    assert missing.summary.startswith("kubeconfig:")
    assert "no-such-context" in missing.summary


def test_quantities() -> None:
    assert parse_cpu("3800m") == 3.8
    assert parse_cpu("250000000n") == 0.25
    assert parse_cpu("2") == 2.0
    assert parse_cpu("1500u") == 0.0015
    assert parse_memory("16Gi") == 16 * 1024**3
    assert parse_memory("16318604Ki") == 16318604 * 1024
    assert parse_memory("500M") == 500_000_000
    assert parse_memory("1e9") == 10**9
    assert parse_memory("128974848000m") == 128974848
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_memory("16 GB")


async def test_faults_do_not_disturb_the_other_checks_of_a_run(api: kube.KubeAPI,
                                                                tmp_path: Path) -> None:
    from servers.redis import free_port

    from predeploy_tui.core.checklist import parse_checklist
    from predeploy_tui.engine.base import ItemFinished, RunEvent
    from predeploy_tui.engine.runner import Runner

    # Given one run with a healthy cluster, a hanging one, a Redis that is down and a command
    config = api.kubeconfig
    yaml_text = f"""
id: faults
title: Faults stay where they happen
sections:
  - id: s
    title: S
    groups:
      - title: G
        items:
          - id: roomy
            title: CPU available
            check: {{type: kubernetes, kubeconfig: '{config}', context: roomy, timeout: 10s,
                    expect: {{each: 'nodes[].cpu_free_percent', gt: 30}}}}
          - id: hang
            title: A cluster that never answers
            check: {{type: kubernetes, kubeconfig: '{config}', context: hang, timeout: 1500ms}}
          - id: redis-down
            title: Redis down
            check: {{type: redis, address: 127.0.0.1, port: {free_port()}, timeout: 2s}}
          - id: echo
            title: A plain command
            check: {{type: shell, run: echo fine, timeout: 5s}}
"""
    (tmp_path / "faults.yaml").write_text(yaml_text)
    checklist = parse_checklist(yaml_text.encode(), str(tmp_path / "faults.yaml"))
    finished: list[str] = []

    def listen(event: RunEvent) -> None:
        if isinstance(event, ItemFinished):
            finished.append(event.key.split(".")[-1])

    runner = Runner(checklist, {}, by="tester", listeners=[listen])
    try:
        # When they run together
        results = {k.split(".")[-1]: r for k, r in (await runner.run()).items()}
    finally:
        await runner.aclose()
    # Then each fault is an error with its reason, within its timeout + 1 s, and nothing else moved
    assert results["roomy"].status is Status.PASS, results["roomy"].summary
    assert results["echo"].status is Status.PASS
    assert results["hang"].status is Status.ERROR
    # The runner's deadline or the client's own read timeout, whichever is first: both say so.
    assert any(w in results["hang"].summary for w in ("timed out", "did not answer", "no answer"))
    assert (results["hang"].duration or 99) < 2.5
    assert results["redis-down"].status is Status.ERROR
    assert results["redis-down"].summary.startswith("cannot connect to Redis at 127.0.0.1")
    assert (results["redis-down"].duration or 99) < 3
    assert finished.index("roomy") < finished.index("hang")


def _kubectl(api: kube.KubeAPI, context: str, *args: str) -> str:
    import subprocess

    done = subprocess.run(["kubectl", "--kubeconfig", str(api.kubeconfig), "--context", context,
                           *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
async def test_nodes_as_kubectl_reads_them(api: kube.KubeAPI) -> None:
    import json

    for context in ("roomy", "tight", "edge"):
        # kubectl itself talks to the stand-in: it answers discovery and lists as an API server does
        listed = json.loads(_kubectl(api, context, "get", "nodes", "-o", "json"))
        top = [line.split() for line in _kubectl(api, context, "top", "nodes").splitlines()[1:]]
        out = await run_check("kubernetes", p(api, context))
        assert out.obs is not None, out.summary
        ours = {n["name"]: n for n in out.obs.data["nodes"]}
        # The same nodes, with the same allocatable capacity
        assert sorted(ours) == sorted(item["metadata"]["name"] for item in listed["items"])
        for item in listed["items"]:
            node = ours[item["metadata"]["name"]]
            alloc = item["status"]["allocatable"]
            assert node["cpu_allocatable_cores"] == parse_cpu(alloc["cpu"])
            assert node["memory_allocatable_bytes"] == parse_memory(alloc["memory"])
            assert node["gpus"] == int(alloc.get("nvidia.com/gpu", 0))
        # And the usage kubectl top shows (it rounds: millicores up, Mi and percents down)
        for name, cpu, cpu_pct, memory, mem_pct in top:
            node = ours[name]
            assert abs(node["cpu_used_cores"] * 1000 - int(cpu.removesuffix("m"))) < 1
            assert abs((100 - node["cpu_free_percent"]) - int(cpu_pct.removesuffix("%"))) < 1
            assert abs(node["memory_used_bytes"] - int(memory.removesuffix("Mi")) * 2**20) < 2**20
            used_pct = node["memory_used_bytes"] / node["memory_allocatable_bytes"] * 100
            assert abs(used_pct - int(mem_pct.removesuffix("%"))) < 1
