"""deploy/ checked without Docker or a cluster: every YAML parses, the Kubernetes manifests
validate against the bundled Kubernetes schemas (offline), compose has its services, order and
health checks, the Dockerfile's paths exist and its command is real, and no secret is inlined."""

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY|KEYS|DATABASE_URL")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for path in sorted(K8S.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in documents(path)
    ]


def by_kind(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        doc
        for _, doc in manifests()
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    specs = []
    for _, doc in manifests():
        if doc["kind"] in ("Deployment", "Job"):
            specs.append((doc["metadata"]["name"], doc["spec"]["template"]["spec"]))
    return specs


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [(name, c) for name, spec in pod_specs() for c in spec["containers"]]


# --- YAML and schemas


def test_every_yaml_in_deploy_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert len(files) >= 9
    for path in files:
        assert documents(path), path


def test_every_manifest_validates_against_the_kubernetes_schemas():
    checked = 0
    for path, doc in manifests():
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name}: {doc['kind']} {doc['metadata']['name']}: {error}")
        checked += 1
    kinds = {doc["kind"] for _, doc in manifests()}
    assert {
        "Deployment",
        "Service",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ConfigMap",
        "Secret",
    } <= kinds
    assert checked >= 10


def test_the_validator_can_fail():
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_example_secret():
    listed = set(documents(K8S / "kustomization.yaml")[0]["resources"])
    present = {p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert listed == present
    assert not any("secret" in name for name in listed)


# --- what the cluster needs


def test_the_web_deployment_has_probes_resources_and_the_metrics_port():
    (deployment,) = by_kind("Deployment", "skill-data-gateway")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {p["containerPort"] for p in container["ports"]} == {8080, 9100}
    assert deployment["spec"]["replicas"] >= 2
    (config,) = by_kind("ConfigMap")
    assert config["data"]["GATEWAY_METRICS"] == "port"
    assert config["data"]["GATEWAY_METRICS_PORT"] == "9100"


def test_every_container_has_requests_and_limits_and_runs_a_real_command():
    seen = []
    for name, container in containers():
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), name
        assert {"cpu", "memory"} <= set(resources["limits"]), name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        if "command" in container:
            seen.append(container["command"])
            assert_cli_command(container["command"])
    assert ["skillgw", "worker"] in seen and ["skillgw", "db", "upgrade"] in seen


def test_the_autoscaler_budget_and_policies_select_the_deployments_pods():
    (deployment,) = by_kind("Deployment", "skill-data-gateway")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (hpa,) = by_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    (pdb,) = by_kind("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    selected = {
        tuple(sorted(p["spec"]["podSelector"]["matchLabels"].items()))
        for p in by_kind("NetworkPolicy")
    }
    for doc in by_kind("Deployment") + by_kind("Job"):
        pod_labels = doc["spec"]["template"]["metadata"]["labels"]
        assert tuple(sorted(pod_labels.items())) in selected, doc["metadata"]["name"]


def secret_leaks(container: dict[str, Any]) -> list[str]:
    """Names of secret-like variables a container sets inline instead of from a Secret."""
    leaks = []
    for variable in container.get("env", []):
        if SECRET_NAME.search(variable["name"]) and (
            "value" in variable or "secretKeyRef" not in variable.get("valueFrom", {})
        ):
            leaks.append(variable["name"])
    return leaks


def test_no_secret_is_inlined_in_a_manifest():
    (example,) = by_kind("Secret")
    keys = set(example["stringData"])
    for name, container in containers():
        assert secret_leaks(container) == [], name
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in keys  # the example shows every key the pods need
    for config in by_kind("ConfigMap"):
        assert not [k for k in config["data"] if SECRET_NAME.search(k)]
    # the one Secret is an example of placeholders, outside what gets applied
    assert all("CHANGE_ME" in value for value in example["stringData"].values())


def test_the_secret_check_can_fail():
    assert secret_leaks({"env": [{"name": "GATEWAY_SECRET_KEY", "value": "abc"}]}) == [
        "GATEWAY_SECRET_KEY"
    ]


# --- compose


def compose() -> dict[str, Any]:
    return documents(DEPLOY / "compose.yaml")[0]


def test_compose_runs_instances_behind_a_load_balancer_after_the_migration():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "gateway", "worker", "loadbalancer"} <= set(services)
    gateway = services["gateway"]
    assert gateway["deploy"]["replicas"] >= 2
    assert "ports" not in gateway  # only the load balancer is published
    assert gateway["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert gateway["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["loadbalancer"]["depends_on"]["gateway"]["condition"] == "service_healthy"
    for name in ("postgres", "redis", "gateway", "loadbalancer"):
        assert services[name]["healthcheck"]["test"], name
    assert_cli_command(services["migrate"]["command"])
    assert_cli_command(services["worker"]["command"])
    assert services["migrate"]["command"] == ["skillgw", "db", "upgrade"]
    assert services["worker"]["command"] == ["skillgw", "worker"]


def test_compose_mounts_files_that_exist_and_the_balancer_points_at_the_instances():
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"server gateway:8080\b", nginx)
    # the balancer's log holds no address and no query string
    log_format = re.search(r"log_format gateway (.*?);", nginx, re.S).group(1)
    assert "$request_uri" not in log_format and "$args" not in log_format
    assert "$remote_addr" not in log_format and '"$request"' not in log_format


def compose_leaks(environment: dict[str, Any]) -> list[str]:
    leaks = []
    for name, value in environment.items():
        if name.startswith("POSTGRES_USER") or name == "POSTGRES_DB":
            continue
        if SECRET_NAME.search(name):
            # a required reference, or a URL whose password is one: never a value or a default
            references = re.findall(r"\$\{([A-Z_]+)(:\?[^}]*)?\}", str(value))
            if not references or any(not required for _, required in references):
                leaks.append(name)
            elif re.search(r":-", str(value)):
                leaks.append(name)
    return leaks


def test_compose_inlines_no_secret_and_gives_none_a_default():
    anchors = compose()
    for name, service in anchors["services"].items():
        environment = service.get("environment", {})
        assert compose_leaks(environment) == [], name
    assert compose_leaks({"GATEWAY_SECRET_KEY": "${GATEWAY_SECRET_KEY:-change-me}"}) == [
        "GATEWAY_SECRET_KEY"
    ]
    assert compose_leaks({"GATEWAY_SECRET_KEY": "hunter2"}) == ["GATEWAY_SECRET_KEY"]


# --- Dockerfile


def dockerfile() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_dockerfiles_copied_paths_exist():
    copied = 0
    for line in dockerfile():
        instruction, _, rest = line.partition(" ")
        if instruction not in ("COPY", "ADD"):
            continue
        args = [a for a in shlex.split(rest) if not a.startswith("--")]
        if "--from=" in rest:
            continue  # from an earlier stage
        for source in args[:-1]:
            assert (ROOT / source).exists(), source
            copied += 1
    assert copied >= 6


def test_the_dockerfiles_command_is_real():
    (cmd,) = [line for line in dockerfile() if line.startswith("CMD ")]
    command = json.loads(cmd[4:])  # exec form: signals reach gunicorn
    assert command[0] == "gunicorn" and shutil.which("gunicorn")
    config = command[command.index("-c") + 1]
    copies = " ".join(line for line in dockerfile() if line.startswith("COPY "))
    assert f"deploy/{config}" in copies and (DEPLOY / config).exists()
    module, _, attribute = command[-1].partition(":")
    assert (ROOT / f"{module}.py").exists() and attribute == "app"


def assert_cli_command(command: list[str]) -> None:
    """`command` is a `skillgw` subcommand that exists."""
    assert command[0] == "skillgw"
    group: Any = main
    for part in command[1:]:
        group = group.get_command(None, part)
        assert group is not None, command
