"""kube-proxy in the local cluster: Services work from pods, the `kubernetes` one included."""

from __future__ import annotations

from kubernetes import client

from tests.support import kube

# In-cluster config, as client libraries build it: the Service's address from the
# environment the kubelet sets, the mounted service-account token and CA.
IN_CLUSTER_READ = """
import json, os, ssl, sys, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
namespace = open(sa + "/namespace").read()
request = urllib.request.Request(
    f"https://{host}:{port}/api/v1/namespaces/{namespace}/configmaps/greeting",
    headers={"Authorization": "Bearer " + open(sa + "/token").read()},
)
context = ssl.create_default_context(cafile=sa + "/ca.crt")
body = json.load(urllib.request.urlopen(request, context=context, timeout=10))
print(host, body["data"]["text"])
"""

HTTP_SERVER = """
import http.server
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hello through a Service")
http.server.HTTPServer(("0.0.0.0", 8080), Hello).serve_forever()
"""

# kube-proxy programs a new Service asynchronously, after its endpoint is ready: until
# then the Service's address is unrouted (the node has no default route), so a client
# retries, as real ones do, within a deadline.
HTTP_GET = """
import sys, time, urllib.request
deadline = time.monotonic() + 45
while True:
    try:
        print(urllib.request.urlopen(f"http://{sys.argv[1]}/", timeout=5).read().decode())
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
"""


def test_a_pod_reaches_the_api_server_through_the_kubernetes_service(
    core: client.CoreV1Api, kube_api: client.ApiClient, namespace: str
) -> None:
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="greeting"), data={"text": "hi"}),
    )
    rbac = client.RbacAuthorizationV1Api(kube_api)
    rbac.create_namespaced_role(
        namespace,
        {
            "metadata": {"name": "read-greeting"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "read-greeting"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "read-greeting",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
        },
    )
    pod = kube.restricted_python_pod("in-cluster", IN_CLUSTER_READ)
    pod["spec"]["automountServiceAccountToken"] = True
    service_ip = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip

    assert kube.run_pod_to_end(core, namespace, pod) == f"{service_ip} hi"


def test_a_service_reaches_a_pod_on_the_same_bridge(core: client.CoreV1Api, namespace: str) -> None:
    server = kube.restricted_python_pod("server", HTTP_SERVER)
    server["metadata"]["labels"] = {"app": "hello"}
    server["spec"]["containers"][0]["readinessProbe"] = {"tcpSocket": {"port": 8080}}
    core.create_namespaced_pod(namespace, server)
    service = core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "hello"},
            "spec": {"selector": {"app": "hello"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )

    def endpoint_ready() -> bool:
        try:
            endpoints = core.read_namespaced_endpoints("hello", namespace)
        except client.ApiException as exc:
            if exc.status == 404:  # the endpoints controller has not made it yet
                return False
            raise
        return any(s.addresses for s in endpoints.subsets or [])

    kube.wait_until(endpoint_ready, 60, "the hello Service's endpoint")
    client_pod = kube.restricted_python_pod("client", HTTP_GET)
    client_pod["spec"]["containers"][0]["command"] += [service.spec.cluster_ip]

    assert kube.run_pod_to_end(core, namespace, client_pod) == "hello through a Service"
