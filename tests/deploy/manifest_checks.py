"""Offline validators for the deployment manifests (no Docker engine, no API server).

Each `*_problems` function returns a list of human-readable problems (empty: valid),
so a test can assert both that the real manifests pass and that a broken copy fails.
"""
from __future__ import annotations

import functools
import json
import os
import pathlib
import re
import typing
from collections.abc import Iterator, Mapping

import jsonschema
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

REPO = pathlib.Path(__file__).resolve().parents[2]
VENDORED_SCHEMAS = REPO / "deploy" / "schemas"
COMPOSE_SCHEMA = "compose-spec.json"
RAYSERVICE_CRD = "kuberay-v1.7.0-rayservices-crd.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: pathlib.Path):
    return yaml.load(path.read_text(), Loader=_Loader)


def load_yaml_all(path: pathlib.Path) -> list:
    return [d for d in yaml.load_all(path.read_text(), Loader=_Loader) if d is not None]


def shared_dir_candidates() -> list[pathlib.Path]:
    """Where the shared schemas may be: beside the clone, then $SOUNDLOOP_SHARED_DIR."""
    found = [REPO.parent / "shared"]
    if os.environ.get("SOUNDLOOP_SHARED_DIR"):
        found.append(pathlib.Path(os.environ["SOUNDLOOP_SHARED_DIR"]))
    return found


def schema_path(name: str) -> pathlib.Path:
    """The shared copy of a schema if there is one, else the copy vendored in deploy/schemas."""
    for folder in shared_dir_candidates():
        if (folder / "schemas" / name).is_file():
            return folder / "schemas" / name
    return VENDORED_SCHEMAS / name


def _errors(validator, instance, where: str) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path)
        out.append(f"{where}: /{path}: {error.message[:300]}")
    return out


# ---------------------------------------------------------------- Compose

@functools.cache
def compose_validator():
    schema = json.loads(schema_path(COMPOSE_SCHEMA).read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def compose_problems(doc) -> list[str]:
    return _errors(compose_validator(), doc, "docker-compose.yml")


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate_defaults(value: str, env: Mapping[str, str] | None = None) -> str:
    """Compose interpolation: ${X:-default} -> env's X, else default; ${X:?error} (which Compose
    refuses to run without) -> env's X, else ""."""
    def value_of(m: re.Match) -> str:
        name, sep, rest = m.groups()
        if (env or {}).get(name):
            return env[name]
        return rest if sep and sep.endswith("-") else ""
    return _INTERPOLATION.sub(value_of, value)


def compose_required_variables(value: str) -> set[str]:
    """Variables that `value` interpolates with ${X:?error}: Compose stops when they are unset."""
    return {m.group(1) for m in _INTERPOLATION.finditer(value) if m.group(2) == ":?"}


# ---------------------------------------------------------------- CRD -> JSON Schema

def _object_meta_schema() -> dict:
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"},
            "namespace": {"type": "string"}, "labels": string_map, "annotations": string_map,
            "generateName": {"type": "string"}, "finalizers": {"type": "array", "items": {"type": "string"}},
        },
    }


def crd_schema_to_json_schema(node: dict) -> dict:
    """Converts a structural openAPIV3Schema node into a strict JSON Schema.

    Listed properties close the object (additionalProperties: false) unless the CRD
    says otherwise (additionalProperties given, x-kubernetes-preserve-unknown-fields);
    int-or-string becomes anyOf integer/string; nullable adds null. CEL rules
    (x-kubernetes-validations) cannot run here and are dropped.
    """
    out = {k: v for k, v in node.items() if k not in ("x-kubernetes-validations", "nullable")}
    if "properties" in node:
        out["properties"] = {name: crd_schema_to_json_schema(sub) for name, sub in node["properties"].items()}
        if "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = crd_schema_to_json_schema(node["additionalProperties"])
    if isinstance(node.get("items"), dict):
        out["items"] = crd_schema_to_json_schema(node["items"])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in node:
            out[key] = [crd_schema_to_json_schema(sub) for sub in node[key]]
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node and "type" not in node:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    if node.get("x-kubernetes-embedded-resource") and "properties" in out:
        out["properties"].setdefault("apiVersion", {"type": "string"})
        out["properties"].setdefault("kind", {"type": "string"})
        out["properties"].setdefault("metadata", {"type": "object"})
    return out


def _list_map_keys(validator, keys, instance, schema) -> Iterator[jsonschema.ValidationError]:
    """x-kubernetes-list-type: map: items must be unique by their keys (API server rule)."""
    if schema.get("x-kubernetes-list-type") != "map" or not isinstance(instance, list):
        return
    defaults = {k: v.get("default") for k, v in schema.get("items", {}).get("properties", {}).items()}
    seen = set()
    for item in instance:
        if isinstance(item, dict):
            key = tuple(item.get(k, defaults.get(k)) for k in keys)
            if key in seen:
                yield jsonschema.ValidationError(f"duplicate entry for keys {keys}: {key}")
            seen.add(key)


def _list_type(validator, kind, instance, schema) -> Iterator[jsonschema.ValidationError]:
    if kind == "set" and isinstance(instance, list):
        dumped = [json.dumps(i, sort_keys=True) for i in instance]
        if len(set(dumped)) != len(dumped):
            yield jsonschema.ValidationError("x-kubernetes-list-type set has duplicate items")


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("int32")(lambda v: not isinstance(v, int) or -2**31 <= v < 2**31)
    checker.checks("int64")(lambda v: not isinstance(v, int) or -2**63 <= v < 2**63)
    return checker


KubeValidator = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    {"x-kubernetes-list-map-keys": _list_map_keys, "x-kubernetes-list-type": _list_type},
)


@functools.cache
def rayservice_schema() -> dict:
    crd = next(d for d in load_yaml_all(schema_path(RAYSERVICE_CRD)) if d.get("kind") == "CustomResourceDefinition")
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema = crd_schema_to_json_schema(version["schema"]["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"const": f"{crd['spec']['group']}/v1"}
    schema["properties"]["kind"] = {"const": crd["spec"]["names"]["kind"]}
    schema["properties"]["metadata"] = _object_meta_schema()
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
    return schema


def kube_validator(schema: dict):
    return KubeValidator(schema, format_checker=_format_checker())


def rayservice_problems(doc) -> list[str]:
    return _errors(kube_validator(rayservice_schema()), doc, "RayService")


def pod_template_schema() -> dict:
    """PodTemplateSpec, as embedded (in full) in the KubeRay CRD."""
    cluster = rayservice_schema()["properties"]["spec"]["properties"]["rayClusterConfig"]
    return cluster["properties"]["headGroupSpec"]["properties"]["template"]


def service_spec_schema() -> dict:
    """core/v1 ServiceSpec, as embedded (in full) in the KubeRay CRD's serveService."""
    return rayservice_schema()["properties"]["spec"]["properties"]["serveService"]["properties"]["spec"]


def label_selector_schema() -> dict:
    """meta/v1 LabelSelector, as embedded in the CRD's pod affinity terms."""
    affinity = pod_template_schema()["properties"]["spec"]["properties"]["affinity"]["properties"]
    term = affinity["podAffinity"]["properties"]["requiredDuringSchedulingIgnoredDuringExecution"]["items"]
    return term["properties"]["labelSelector"]


def network_policy_spec_schema() -> dict:
    """networking/v1 NetworkPolicySpec (not in the CRD: written from the API reference, strict)."""
    selector = label_selector_schema()
    peer = {"type": "object", "additionalProperties": False, "properties": {
        "podSelector": selector, "namespaceSelector": selector,
        "ipBlock": {"type": "object", "required": ["cidr"], "additionalProperties": False, "properties": {
            "cidr": {"type": "string"}, "except": {"type": "array", "items": {"type": "string"}}}}}}
    port = {"type": "object", "additionalProperties": False, "properties": {
        "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
        "port": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string"}]},
        "endPort": {"type": "integer", "minimum": 1, "maximum": 65535}}}

    def rule(direction: str) -> dict:
        return {"type": "object", "additionalProperties": False, "properties": {
            direction: {"type": "array", "items": peer}, "ports": {"type": "array", "items": port}}}

    return {"type": "object", "required": ["podSelector"], "additionalProperties": False, "properties": {
        "podSelector": selector,
        "policyTypes": {"type": "array", "items": {"enum": ["Ingress", "Egress"]}},
        "ingress": {"type": "array", "items": rule("from")}, "egress": {"type": "array", "items": rule("to")}}}


def selects(selector: dict | None, labels: Mapping[str, str] | None) -> bool:
    """Whether a LabelSelector matches `labels` (None: no object, as an external peer has no pod)."""
    if selector is None or labels is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if not {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[op]:
            return False
    return True


# ---------------------------------------------------------------- Core kinds

def _container_ports(template: dict) -> dict:
    ports = {}
    for container in template.get("spec", {}).get("containers", []):
        for port in container.get("ports", []):
            ports[port.get("name") or port["containerPort"]] = port["containerPort"]
            ports[port["containerPort"]] = port["containerPort"]
    return ports


def core_manifest_problems(docs: list) -> list[str]:
    """Secret / Deployment / Service / NetworkPolicy: required fields, pod template and Service spec
    against the core schemas embedded in the CRD, selectors and target ports that resolve."""
    problems = []
    api = {"Secret": "v1", "Service": "v1", "Deployment": "apps/v1", "NetworkPolicy": "networking.k8s.io/v1"}
    pods, services = [], []
    for doc in docs:
        kind, name = doc.get("kind"), (doc.get("metadata") or {}).get("name")
        where = f"{kind}/{name}"
        if kind not in api:
            problems.append(f"{where}: unexpected kind")
            continue
        if doc.get("apiVersion") != api[kind]:
            problems.append(f"{where}: apiVersion {doc.get('apiVersion')!r}, want {api[kind]!r}")
        problems += _errors(kube_validator(_object_meta_schema()), doc.get("metadata"), f"{where} metadata")
        if kind == "Secret":
            values = {**(doc.get("stringData") or {}), **(doc.get("data") or {})}
            if not values or not all(isinstance(v, str) for v in values.values()):
                problems.append(f"{where}: needs string data")
            if doc.get("type") == "kubernetes.io/tls" and not {"tls.crt", "tls.key"} <= set(values):
                problems.append(f"{where}: a kubernetes.io/tls Secret needs tls.crt and tls.key")
        elif kind == "NetworkPolicy":
            problems += _errors(kube_validator(network_policy_spec_schema()), doc.get("spec"), f"{where} spec")
        elif kind == "Deployment":
            spec = doc.get("spec") or {}
            template = spec.get("template") or {}
            problems += _errors(kube_validator(pod_template_schema()), template, f"{where} template")
            wanted = (spec.get("selector") or {}).get("matchLabels") or {}
            labels = (template.get("metadata") or {}).get("labels") or {}
            if not wanted or any(labels.get(k) != v for k, v in wanted.items()):
                problems.append(f"{where}: selector {wanted} does not select its template labels {labels}")
            if not template.get("spec", {}).get("containers"):
                problems.append(f"{where}: no containers")
            pods.append((labels, template))
        else:
            services.append((where, doc.get("spec") or {}))
    for where, spec in services:
        problems += _errors(kube_validator(service_spec_schema()), spec, f"{where} spec")
        selector = spec.get("selector") or {}
        matched = [t for labels, t in pods if selector and all(labels.get(k) == v for k, v in selector.items())]
        if not matched:
            problems.append(f"{where}: selector {selector} matches no Deployment in the same file")
        for port in spec.get("ports", []):
            target = port.get("targetPort", port.get("port"))
            if matched and not all(target in _container_ports(t) for t in matched):
                problems.append(f"{where}: targetPort {target!r} is not a container port of the selected pods")
    return problems


# ---------------------------------------------------------------- Ray Serve config

def _nested_models(annotation) -> list[type[BaseModel]]:
    """The pydantic models a field may hold, through Optional/Union/List/Dict."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _nested_models(arg)
    return found


def unknown_keys(data, model: type[BaseModel], where: str) -> list[str]:
    """Keys that `model` (recursively) does not declare: pydantic would drop them silently."""
    if not isinstance(data, dict):
        return []
    fields = model.model_fields
    names = {n: f for n, f in fields.items()} | {f.alias: f for f in fields.values() if f.alias}
    problems = []
    for key, value in data.items():
        if key not in names:
            problems.append(f"{where}: unknown key {key!r} (not a field of {model.__name__})")
            continue
        for nested in _nested_models(names[key].annotation)[:1]:
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                label = f"{where}.{key}" + (f"[{i}]" if isinstance(value, list) else "")
                problems += unknown_keys(item, nested, label)
    return problems


def runtime_env_problems(runtime_env, where: str) -> list[str]:
    from ray.runtime_env import RuntimeEnv

    if not runtime_env:
        return []
    problems = [f"{where}: unknown runtime_env key {k!r}" for k in runtime_env if k not in RuntimeEnv.known_fields]
    env = runtime_env.get("env_vars") or {}
    problems += [f"{where}.env_vars.{k}: value {v!r} must be a string (quote it)"
                 for k, v in env.items() if not isinstance(v, str)]
    problems += settings_env_problems(env, f"{where}.env_vars")
    return problems


def serve_config_problems(doc, where: str) -> list[str]:
    """ServeDeploySchema must parse, with no key it would drop and no impossible combination."""
    from ray._common import ray_option_utils
    from ray.serve.config import AutoscalingConfig
    from ray.serve.schema import ServeDeploySchema

    try:
        ServeDeploySchema.model_validate(doc)
    except ValidationError as error:
        return [f"{where}: {error}"]
    problems = unknown_keys(doc, ServeDeploySchema, where)
    for app in doc.get("applications", []):
        at = f"{where}:{app.get('name')}"
        problems += runtime_env_problems(app.get("runtime_env"), f"{at}.runtime_env")
        problems += app_args_problems(app, f"{at}.args")
        for dep in app.get("deployments", []):
            here = f"{at}.{dep.get('name')}"
            scaling = dep.get("autoscaling_config")
            if "num_replicas" in dep and scaling:
                problems.append(f"{here}: sets both num_replicas and autoscaling_config")
            if scaling:
                try:  # Serve keeps a raw dict here: min > max etc. only fail at deploy time.
                    config = AutoscalingConfig.model_validate(scaling)
                except ValidationError as error:
                    problems.append(f"{here}.autoscaling_config: {error}")
                else:
                    if config.target_ongoing_requests and config.target_ongoing_requests > dep.get(
                            "max_ongoing_requests", 5):
                        problems.append(f"{here}: target_ongoing_requests above max_ongoing_requests never "
                                        "triggers a scale-up")
            options = dict(dep.get("ray_actor_options") or {})
            try:
                ray_option_utils.validate_actor_options(dict(options), in_options=True)
            except (ValueError, TypeError) as error:
                problems.append(f"{here}.ray_actor_options: {error}")
            problems += runtime_env_problems(options.get("runtime_env"), f"{here}.ray_actor_options.runtime_env")
    return problems


def app_args_problems(app: dict, where: str) -> list[str]:
    """`args` of soundloop's builder: AppArgs fields, and Settings fields under `settings`."""
    if app.get("import_path") != "services.app:build_app":
        return []
    from services.app import AppArgs

    args = app.get("args") or {}
    problems = unknown_keys(args, AppArgs, where)
    try:
        AppArgs.model_validate(args)
    except ValidationError as error:
        return problems + [f"{where}: {error}"]
    as_settings = {"profile": args.get("profile", "default"), **(args.get("settings") or {})}
    return problems + settings_env_problems(_flatten(as_settings), f"{where}.settings")


def _flatten(values: dict, prefix: str = "SOUNDLOOP_") -> dict:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key.upper()}__")
        else:
            flat[f"{prefix}{key.upper()}"] = value
    return flat


def serve_gateway_port(serve_doc) -> int:
    """The port the Gateway replica listens on: builder args, else replica env, else the default."""
    from soundloop.settings import GatewaySettings

    app = serve_doc["applications"][0]
    from_args = ((app.get("args") or {}).get("settings") or {}).get("gateway", {}).get("port")
    from_env = ((app.get("runtime_env") or {}).get("env_vars") or {}).get("SOUNDLOOP_GATEWAY__PORT")
    return int(from_args or from_env or GatewaySettings().port)


def deployments(serve_doc) -> dict[str, dict]:
    (app,) = serve_doc["applications"]
    return {d["name"]: d for d in app["deployments"]}


def max_replicas(dep: dict) -> int:
    return (dep.get("autoscaling_config") or {}).get("max_replicas") or dep.get("num_replicas", 1)


def min_replicas(dep: dict) -> int:
    scaling = dep.get("autoscaling_config") or {}
    return scaling.get("min_replicas", 1) if scaling else dep.get("num_replicas", 1)


def logical_cpus(serve_doc, replicas=max_replicas) -> float:
    return sum((d.get("ray_actor_options") or {}).get("num_cpus", 1) * replicas(d)
               for d in deployments(serve_doc).values())


# ---------------------------------------------------------------- soundloop settings

def settings_env_problems(env: Mapping[str, str], where: str) -> list[str]:
    """SOUNDLOOP_* variables must name a real settings field (pydantic-settings ignores
    unknown ones, nested typos included) and hold a value of the field's type."""
    from soundloop.settings import Settings

    problems = []
    for name, value in env.items():
        if not name.startswith("SOUNDLOOP_"):
            continue
        model, parts = Settings, name[len("SOUNDLOOP_"):].lower().split("__")
        for i, part in enumerate(parts):
            field = model.model_fields.get(part)
            nested = _nested_models(field.annotation) if field else []
            if field is None:
                problems.append(f"{where}: {name}: no setting {'.'.join(parts[:i + 1])!r}")
            elif i < len(parts) - 1 and nested:
                model = nested[0]
                continue
            elif i < len(parts) - 1 or nested:
                problems.append(f"{where}: {name}: {'.'.join(parts[:i + 1])!r} is not a single value")
            else:
                try:
                    TypeAdapter(field.annotation).validate_python(
                        interpolate_defaults(value) if isinstance(value, str) else value)
                except ValidationError as error:
                    problems.append(f"{where}: {name}={value!r}: {error.errors()[0]['msg']}")
            break
    return problems
