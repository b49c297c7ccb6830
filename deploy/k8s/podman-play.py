#!/usr/bin/env python3
"""Rewrites deploy/k8s into what `podman kube play` (podman 4.3) can run on one machine.

  deploy/k8s/podman-play.py [--secret [NAME/]KEY=VALUE ...] [--only RESOURCE ...] [--image OLD=NEW ...] > play.yaml
  podman kube play --network NET play.yaml

For a smoke test of the manifests (deploy/k8s/podman-smoke.sh), not a deployment. podman 4.3
plays Pods, ConfigMaps and PersistentVolumeClaims but not StatefulSets, Jobs, Services or
PodDisruptionBudgets, Deployments, cannot read a Secret given in the same file, and runs a probe as
a command inside the container (an httpGet probe needs curl, which the image does not have).
So, from the resources that kustomization.yaml lists:
  - a StatefulSet becomes its pod <name>-0 (the pod name is its DNS name on the network), its
    volumeClaimTemplates become PVCs <template>-<name>-0;
  - a Deployment becomes one pod <name>;
  - a Job becomes a Pod with restartPolicy OnFailure;
  - a headless-Service name "<pod>.<service>" in a value becomes "<pod>", and a value that is
    exactly "<service>:<port>" of a Service in front of a StatefulSet becomes "<statefulset>-0:<port>";
  - Secret references become the values given with --secret (KEY=VALUE: of gatehouse-secrets;
    NAME/KEY=VALUE: of the Secret NAME, e.g. gatehouse-kafka-admin/password=...); a Secret
    volume becomes a ConfigMap volume of a ConfigMap with those values;
  - --image OLD=NEW replaces a container's image OLD (e.g. to test images under other tags);
  - fieldRef metadata.name becomes the pod's name, and $(VAR) references are expanded;
  - probes are dropped (all are httpGet on the metrics port, /healthz and /readyz, so that they
    work with gRPC TLS too; podman-smoke.sh runs the image's HEALTHCHECK, /readyz, instead);
  - Services, PodDisruptionBudgets and the Namespace are dropped.
"""
import argparse
import copy
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
HEADLESS_NAME = re.compile(r"\b([a-z0-9][a-z0-9-]*-[0-9]+)\.[a-z0-9][a-z0-9-]*\b")
VAR_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def load_resources():
    with open(os.path.join(HERE, "kustomization.yaml"), encoding="utf-8") as f:
        kustomization = yaml.safe_load(f)
    documents = []
    for name in kustomization["resources"]:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            documents.extend(d for d in yaml.safe_load_all(f) if d)
    return documents


def service_addresses(documents):
    """{Service name: StatefulSet pod} for the ClusterIP Services in front of a StatefulSet."""
    pods = {}
    for sts in (d for d in documents if d["kind"] == "StatefulSet"):
        labels = sts["spec"]["template"]["metadata"].get("labels", {})
        for service in (d for d in documents if d["kind"] == "Service"):
            selector = service["spec"].get("selector") or {}
            if service["spec"].get("clusterIP") != "None" and selector and \
                    all(labels.get(k) == v for k, v in selector.items()):
                pods[service["metadata"]["name"]] = sts["metadata"]["name"] + "-0"
    return pods


SERVICE_ADDRESSES = {}


def rewrite_value(value):
    value = HEADLESS_NAME.sub(r"\1", str(value))
    host, colon, port = value.partition(":")
    if colon and port.isdigit() and host in SERVICE_ADDRESSES:
        value = "%s:%s" % (SERVICE_ADDRESSES[host], port)
    return value


def rewrite_container(container, pod_name, secrets, images):
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        container.pop(probe, None)
    if container.get("image") in images:
        container["image"] = images[container["image"]]
    values = {}
    env = []
    for variable in container.get("env", []):
        variable = dict(variable)
        source = variable.pop("valueFrom", None)
        if source and "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            variable["value"] = secrets.get(ref["name"], {}).get(ref["key"], "")
        elif source and source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            variable["value"] = pod_name
        elif source:
            raise SystemExit("podman-play.py: unsupported valueFrom in %s: %s" % (pod_name, source))
        value = VAR_REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), str(variable.get("value", "")))
        variable["value"] = rewrite_value(value)
        values[variable["name"]] = variable["value"]
        env.append(variable)
    if env:
        container["env"] = env


def pod(name, labels, spec, secrets, images, out):
    spec = copy.deepcopy(spec)
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        rewrite_container(container, name, secrets, images)
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            secret = volume.pop("secret")
            config_map = "%s-%s" % (name, secret["secretName"])
            out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": config_map},
                        "data": dict(secrets.get(secret["secretName"], {}))})
            volume["configMap"] = {"name": config_map}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE",
                        help="a value of the gatehouse-secrets Secret, or NAME/KEY=VALUE: of the "
                             "Secret NAME (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="RESOURCE",
                        help="only the StatefulSet or Job of this name (repeatable; ConfigMaps "
                             "always), e.g. --only kafka --only gatehouse-topics")
    parser.add_argument("--image", action="append", default=[], metavar="OLD=NEW",
                        help="run image NEW where the manifests say OLD (repeatable)")
    args = parser.parse_args()
    images = dict(item.split("=", 1) for item in args.image)

    documents = load_resources()
    SERVICE_ADDRESSES.update(service_addresses(documents))
    secrets = {}
    for document in documents:
        if document["kind"] == "Secret":
            secrets[document["metadata"]["name"]] = dict(document.get("stringData", {}))
    for item in args.secret:
        key, _, value = item.partition("=")
        name, _, key = key.rpartition("/")
        secrets.setdefault(name or "gatehouse-secrets", {})[key] = value

    out = []
    for document in documents:
        kind = document["kind"]
        if args.only and kind in ("StatefulSet", "Job", "Deployment") and document["metadata"]["name"] not in args.only:
            continue
        if kind == "ConfigMap":
            document = copy.deepcopy(document)
            document["data"] = {k: rewrite_value(v) for k, v in document["data"].items()}
            out.append(document)
        elif kind == "StatefulSet":
            name = document["metadata"]["name"] + "-0"
            template = document["spec"]["template"]
            spec = copy.deepcopy(template["spec"])
            spec["hostname"] = name
            spec.setdefault("volumes", [])
            for claim in document["spec"].get("volumeClaimTemplates", []):
                claim_name = "%s-%s" % (claim["metadata"]["name"], name)
                out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": claim_name}, "spec": claim["spec"]})
                spec["volumes"].append({"name": claim["metadata"]["name"],
                                        "persistentVolumeClaim": {"claimName": claim_name}})
            out.append(pod(name, template["metadata"].get("labels", {}), spec, secrets, images, out))
        elif kind == "Job":
            template = document["spec"]["template"]
            out.append(pod(document["metadata"]["name"], template["metadata"].get("labels", {}),
                           template["spec"], secrets, images, out))
        elif kind == "Deployment":
            template = document["spec"]["template"]
            spec = copy.deepcopy(template["spec"])
            spec["hostname"] = document["metadata"]["name"]
            out.append(pod(document["metadata"]["name"], template["metadata"].get("labels", {}),
                           spec, secrets, images, out))
        elif kind in ("Secret", "Service", "PodDisruptionBudget", "Namespace"):
            continue
        else:
            raise SystemExit("podman-play.py: no rule for kind %s" % kind)
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
