"""Provides a small HTTPS server that answers like a Kubernetes API server, and a kubeconfig for it.

A real API server cannot run here; this one serves the JSON the real one returns for
``/version``, the discovery documents (``/api``, ``/api/v1``, ``/apis``, metrics.k8s.io's),
``/api/v1/nodes`` and ``/apis/metrics.k8s.io/v1beta1/nodes`` (NodeList and NodeMetricsList as
kubectl receives them), and the Status objects of its errors: kubectl itself runs against it.
Each "cluster" is a path prefix of the one server, picked by a kubeconfig context, so the real
kubernetes client does all the talking.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN = "kube-test-token"
"""The bearer token the kubeconfig carries and the server requires."""
GIB = 1024**3


def node(name: str, cpu: str, memory: str, gpus: int = 0) -> dict[str, Any]:
    """A Node as the API returns it (capacity a little above allocatable, as kubelet reserves)."""
    capacity = {"cpu": "4", "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0",
                "hugepages-2Mi": "0", "memory": "16393232Ki", "pods": "110"}
    allocatable = {**capacity, "cpu": cpu, "memory": memory, "ephemeral-storage": "93478772582"}
    if gpus:
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(gpus)
    return {
        "metadata": {
            "name": name, "uid": f"3f1e{abs(hash(name)) % 10**8:08d}-0000-4000-8000-000000000000",
            "resourceVersion": "918273", "creationTimestamp": "2024-05-01T09:00:00Z",
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "node.kubernetes.io/instance-type": "m6i.xlarge"},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": "10.244.1.0/24", "providerID": f"aws:///eu-west-1a/i-{name}"},
        "status": {
            "capacity": capacity, "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": "2024-06-01T10:00:00Z",
                            "lastTransitionTime": "2024-05-01T09:01:00Z"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.1.17"},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.13",
                         "kernelVersion": "6.1.0-18-cloud-amd64", "kubeletVersion": "v1.29.2",
                         "kubeProxyVersion": "v1.29.2", "operatingSystem": "linux",
                         "osImage": "Debian GNU/Linux 12 (bookworm)"},
        },
    }


def node_metrics(name: str, cpu: str, memory: str) -> dict[str, Any]:
    """A NodeMetrics item as metrics-server returns it (CPU in nanocores, memory in Ki)."""
    return {"metadata": {"name": name, "creationTimestamp": "2024-06-01T10:00:05Z",
                         "labels": {"kubernetes.io/hostname": name}},
            "timestamp": "2024-06-01T10:00:00Z", "window": "20.034s",
            "usage": {"cpu": cpu, "memory": memory}}


def node_list(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "918300"},
            "items": nodes}


def metrics_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {}, "items": items}


def status(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) \
        -> dict[str, Any]:
    """A Status object, the body of every API error."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": dict(details or {}), "code": code}


VERSION = {"major": "1", "minor": "29", "gitVersion": "v1.29.2", "platform": "linux/amd64",
           "goVersion": "go1.21.7", "compiler": "gc", "buildDate": "2024-02-14T10:32:40Z",
           "gitCommit": "4b8e819355d791d96b7e9d9efe4cbafae2311c88", "gitTreeState": "clean"}

ROOMY = (node_list([node("node-a", "3800m", "15242256Ki", gpus=2), node("node-b", "3800m", "15242256Ki")]),
         metrics_list([node_metrics("node-a", "1123443218n", "5123456Ki"),
                       node_metrics("node-b", "804211093n", "6291456Ki")]))
"""Two nodes with plenty free: ~70% and ~79% CPU, ~9.3 and ~8.1 GiB memory."""
TIGHT = (node_list([node("node-a", "3800m", "15242256Ki"), node("node-c", "3800m", "15242256Ki")]),
         metrics_list([node_metrics("node-a", "1123443218n", "5123456Ki"),
                       node_metrics("node-c", "3420m", "12582912Ki")]))
"""node-c is busy: 10% CPU and ~2.5 GiB memory free."""
EDGE = (node_list([node("node-e", "1", "15242256Ki"), node("node-f", "3", "15242256Ki")]),
        metrics_list([node_metrics("node-e", "700400000n", "5123456Ki"),
                      node_metrics("node-f", "2100m", "5123456Ki")]))
"""node-e is 29.96% CPU free, a hair under 30%; node-f exactly 30%."""
API_VERSIONS = {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "10.0.1.5:6443"}]}
"""GET /api: the legacy discovery document of the core group."""
METRICS_GROUP = {"name": "metrics.k8s.io",
                 "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}],
                 "preferredVersion": {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}}


def group_list(metrics: bool) -> dict[str, Any]:
    """GET /apis: the API groups (metrics.k8s.io only where metrics-server runs)."""
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [METRICS_GROUP] if metrics else []}


CORE_RESOURCES = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
    {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
     "shortNames": ["no"], "storageVersionHash": "XwShjMxG9Fs="},
    {"name": "nodes/status", "singularName": "", "namespaced": False, "kind": "Node",
     "verbs": ["get", "patch", "update"]},
]}
"""GET /api/v1: the core resources kubectl needs to map "nodes"."""
METRICS_RESOURCES = {"kind": "APIResourceList", "apiVersion": "v1",
                     "groupVersion": "metrics.k8s.io/v1beta1", "resources": [
                         {"name": "nodes", "singularName": "", "namespaced": False,
                          "kind": "NodeMetrics", "verbs": ["get", "list"]},
                         {"name": "pods", "singularName": "", "namespaced": True,
                          "kind": "PodMetrics", "verbs": ["get", "list"]}]}
"""GET /apis/metrics.k8s.io/v1beta1: what metrics-server serves."""
FORBIDDEN = status(403, "Forbidden", 'nodes is forbidden: User "system:serviceaccount:ci:deployer" '
                   'cannot list resource "nodes" in API group "" at the cluster scope',
                   {"kind": "nodes"})
NOT_FOUND = status(404, "NotFound", "the server could not find the requested resource")
INTERNAL = status(500, "InternalError", "etcdserver: request timed out")


@dataclass
class KubeAPI:
    """The running server; ``kubeconfig`` has one context per cluster behaviour."""

    server: ThreadingHTTPServer
    """The HTTPS server."""
    kubeconfig: Path
    """A kubeconfig with contexts roomy, tight, edge, nometrics, forbidden, broken, hang, badtoken."""
    release: threading.Event = field(default_factory=threading.Event)
    """Set to let hanging requests go."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(cluster, path) of every request received."""

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(api: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            cluster, _, rest = self.path.lstrip("/").partition("/")
            path = "/" + rest.split("?", 1)[0]
            api["requests"].append((cluster, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, status(401, "Unauthorized", "Unauthorized"))
            if cluster == "hang":
                api["release"].wait(30)
                return None
            metrics_served = cluster != "nometrics"
            discovery = {"/version": VERSION, "/api": API_VERSIONS, "/api/v1": CORE_RESOURCES,
                         "/apis": group_list(metrics_served)}
            if metrics_served:
                discovery["/apis/metrics.k8s.io/v1beta1"] = METRICS_RESOURCES
            if path in discovery:
                # Discovery is open to every authenticated user, as system:discovery allows.
                return self._send(200, discovery[path])
            if cluster == "forbidden":
                return self._send(403, FORBIDDEN)
            if cluster == "broken":
                return self._send(500, INTERNAL)
            nodes, metrics = {"tight": TIGHT, "edge": EDGE}.get(cluster, ROOMY)
            if path == "/api/v1/nodes":
                return self._send(200, nodes)
            if path == "/apis/metrics.k8s.io/v1beta1/nodes" and cluster != "nometrics":
                return self._send(200, metrics)
            return self._send(404, NOT_FOUND)

        def _send(self, code: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


CONTEXTS = ("roomy", "tight", "edge", "nometrics", "forbidden", "broken", "hang", "badtoken")


def start(folder: Path) -> KubeAPI:
    """Serve on a free 127.0.0.1 port with a throwaway CA; write the kubeconfig into ``folder``."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    release = threading.Event()
    shared: dict[str, Any] = {"release": release, "requests": []}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(shared))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    clusters = [{"name": c, "cluster": {"server": f"https://127.0.0.1:{port}/{c}",
                                        "certificate-authority": str(ca_file)}} for c in CONTEXTS]
    contexts = [{"name": c, "context": {"cluster": c, "user": "badtoken" if c == "badtoken"
                                        else "deployer"}} for c in CONTEXTS]
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "roomy",
              "clusters": clusters, "contexts": contexts,
              "users": [{"name": "deployer", "user": {"token": TOKEN}},
                        {"name": "badtoken", "user": {"token": "expired"}}]}
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(json.dumps(config, indent=2))
    return KubeAPI(server, kubeconfig, release, shared["requests"])
