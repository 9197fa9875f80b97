"""docker-compose.yaml, Dockerfile and .env.example, validated offline (no Docker engine needed).

1. The compose file is valid against the Compose Specification JSON schema. The schema is the copy
   check-jsonschema ships (``check_jsonschema/builtin_schemas/vendor/compose-spec.json``, from
   github.com/compose-spec/compose-spec, Apache-2.0; licence next to it in that package).
2. Cross-checks the schema cannot make: every service a service depends on exists; every named
   volume is declared; every ``${VAR}`` the file reads is listed in .env.example (required ones
   uncommented, to be filled); every Airflow connection the code uses is documented there; no
   secret is written in the file; each service's command is its component's; dags/plugins/include
   are mounted; the Celery settings are the ones the stack test runs with; the Dockerfile builds
   the image from requirements.txt at the locked Airflow version.
3. Planted errors are caught, each with a message naming it.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from tests.support.airflow_stack import CELERY_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"

# Long-running service -> the Airflow command it must run (the official image's entrypoint runs
# `airflow <command>`).
COMPONENTS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
    "flower": "celery flower",
}
# Connections the code reads (default ids); each must be documented as AIRFLOW_CONN_<ID>.
CONNECTIONS = [
    "salesops_warehouse",
    "smtp_default",
    "slack_default",
    "salesforce_default",
    "hubspot_default",
    "marketo_default",
]
SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|^AIRFLOW_CONN_")
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}")


def compose_schema() -> dict:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text())


def schema_errors(doc: dict) -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(compose_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def env_example_vars(text: str) -> tuple[set[str], set[str]]:
    """(variables set uncommented, variables mentioned at all - commented examples included)."""
    active = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", text, re.M))
    mentioned = active | set(re.findall(r"^#\s*([A-Z_][A-Z0-9_]*)=", text, re.M))
    return active, mentioned


def _command(svc: dict) -> str:
    cmd = svc.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def cross_check(doc: dict, compose_text: str, env_text: str, dockerfile: str, requirements: str) -> list[str]:
    problems: list[str] = []
    services = doc.get("services", {})
    volumes = set(doc.get("volumes") or {})
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        for dep in deps if isinstance(deps, list) else deps.keys():
            if dep not in services:
                problems.append(f"service {name} depends on undefined service {dep}")
        for v in svc.get("volumes", []):
            source = v.split(":", 1)[0] if isinstance(v, str) else v.get("source", "")
            if source and not source.startswith((".", "/", "$")) and source not in volumes:
                problems.append(f"service {name} uses undeclared volume {source}")
        for key, value in (svc.get("environment") or {}).items():
            if (
                SECRET_KEY.search(key)
                and not key.endswith("_FILE")
                and value not in (None, "")
                and "${" not in str(value)
            ):
                problems.append(f"service {name}: {key} is written in the compose file, not taken from .env")
            if key == "_PIP_ADDITIONAL_REQUIREMENTS":
                problems.append(f"service {name} installs packages at start (_PIP_ADDITIONAL_REQUIREMENTS)")
        if name in COMPONENTS:
            if _command(svc) != COMPONENTS[name]:
                problems.append(f"service {name} runs {_command(svc)!r}, expected {COMPONENTS[name]!r}")
            if "healthcheck" not in svc:
                problems.append(f"service {name} has no healthcheck")
            mounts = {v.split(":")[1] for v in svc.get("volumes", []) if isinstance(v, str)}
            for folder in ("dags", "plugins", "include"):
                if f"/opt/airflow/{folder}" not in mounts:
                    problems.append(f"service {name} does not mount ./{folder}")
            if svc.get("build") != ".":
                problems.append(f"service {name} does not build the project image (build: .)")
            env = svc.get("environment") or {}
            for key, value in CELERY_SETTINGS.items():
                if str(env.get(key)) != value:
                    problems.append(f"service {name}: {key}={env.get(key)!r}, the stack test runs {value!r}")
    for comp in COMPONENTS:
        if comp not in services:
            problems.append(f"no service {comp}")
    for svc in ("postgres", "redis", "airflow-init"):
        if svc not in services:
            problems.append(f"no service {svc}")

    active, mentioned = env_example_vars(env_text)
    for m in VAR.finditer(compose_text):
        var, op = m.group(1), m.group(2) or ""
        if var not in mentioned:
            problems.append(f"${{{var}}} is read by docker-compose.yaml but not listed in .env.example")
        elif op.startswith(":?") and var not in active:
            problems.append(f"${{{var}}} is required but commented out in .env.example")
    for conn in CONNECTIONS:
        if f"AIRFLOW_CONN_{conn.upper()}" not in mentioned:
            problems.append(
                f"connection {conn} is not documented in .env.example (AIRFLOW_CONN_{conn.upper()})"
            )

    pin = re.search(r"^apache-airflow==(\S+)", requirements, re.M)
    arg = re.search(r"^ARG AIRFLOW_VERSION=(\S+)", dockerfile, re.M)
    if not re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}", dockerfile, re.M):
        problems.append("Dockerfile is not built FROM apache/airflow:${AIRFLOW_VERSION}")
    if not (pin and arg and pin.group(1) == arg.group(1)):
        problems.append(
            f"Dockerfile AIRFLOW_VERSION {arg and arg.group(1)} != requirements.txt apache-airflow {pin and pin.group(1)}"
        )
    if not re.search(r"^COPY .*requirements\.txt", dockerfile, re.M) or not re.search(
        r"^RUN pip install .*-r \S*requirements\.txt", dockerfile, re.M
    ):
        problems.append("Dockerfile does not install requirements.txt")
    if any("_PIP_ADDITIONAL_REQUIREMENTS" in line.split("#", 1)[0] for line in compose_text.splitlines()):
        problems.append("_PIP_ADDITIONAL_REQUIREMENTS is used")
    return problems


@pytest.fixture(scope="module")
def files() -> dict:
    text = COMPOSE.read_text()
    return {
        "doc": yaml.safe_load(text),
        "compose_text": text,
        "env_text": ENV_EXAMPLE.read_text(),
        "dockerfile": DOCKERFILE.read_text(),
        "requirements": (ROOT / "requirements.txt").read_text(),
    }


def _check(files: dict, **changed) -> list[str]:
    f = {**files, **changed}
    return cross_check(f["doc"], f["compose_text"], f["env_text"], f["dockerfile"], f["requirements"])


def test_compose_file_matches_the_compose_specification(files):
    assert schema_errors(files["doc"]) == []
    assert set(COMPONENTS) | {"postgres", "redis", "airflow-init"} <= set(files["doc"]["services"])


def test_compose_dockerfile_and_env_example_agree(files):
    assert _check(files) == []


def test_the_connections_listed_are_the_ones_the_code_uses():
    code = "\n".join(p.read_text() for p in [*ROOT.glob("plugins/**/*.py"), *ROOT.glob("dags/*.py")])
    assert [c for c in CONNECTIONS if f'"{c}"' not in code] == []


def test_a_planted_schema_error_is_caught(files):
    doc = copy.deepcopy(files["doc"])
    doc["services"]["redis"]["healthcheck"]["retires"] = 5  # misspelt key
    doc["services"]["postgres"]["ports"] = "5432:5432"  # must be a list
    errors = schema_errors(doc)
    assert any("retires" in e for e in errors), errors
    assert any(e.startswith("services/postgres/ports") for e in errors), errors


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (lambda d: d["services"]["airflow-worker"]["depends_on"].update({"airflow-webserver": {}}),
         "depends on undefined service airflow-webserver"),
        (lambda d: d["services"]["airflow-scheduler"]["volumes"].append("salesops-cache:/cache"),
         "undeclared volume salesops-cache"),
        (lambda d: d["services"]["airflow-triggerer"].update(command="scheduler"),
         "airflow-triggerer runs 'scheduler', expected 'triggerer'"),
        (lambda d: d["services"]["airflow-worker"]["environment"].update(AIRFLOW__CORE__FERNET_KEY="abc="),
         "AIRFLOW__CORE__FERNET_KEY is written in the compose file"),
        (lambda d: d["services"]["airflow-worker"]["environment"].update(AIRFLOW__CELERY__WORKER_CONCURRENCY="16"),
         "AIRFLOW__CELERY__WORKER_CONCURRENCY='16', the stack test runs '2'"),
        (lambda d: d["services"]["airflow-apiserver"].pop("healthcheck"), "airflow-apiserver has no healthcheck"),
        (lambda d: d["services"]["airflow-dag-processor"].update(volumes=["./dags:/opt/airflow/dags"]),
         "airflow-dag-processor does not mount ./plugins"),
        (lambda d: d["services"].pop("redis"), "no service redis"),
    ],
)  # fmt: skip
def test_a_planted_cross_check_error_is_caught(files, plant, expected):
    doc = copy.deepcopy(files["doc"])
    plant(doc)
    problems = _check(files, doc=doc)
    assert any(expected in p for p in problems), problems


def test_planted_env_and_dockerfile_errors_are_caught(files):
    env_missing = files["env_text"].replace("POSTGRES_PASSWORD=", "# POSTGRES_PASSWORD=")
    assert "${POSTGRES_PASSWORD} is required but commented out in .env.example" in _check(
        files, env_text=env_missing
    )
    env_no_conn = files["env_text"].replace("AIRFLOW_CONN_SMTP_DEFAULT", "AIRFLOW_CONN_SMTP")
    assert any("connection smtp_default" in p for p in _check(files, env_text=env_no_conn))
    compose_new_var = files["compose_text"].replace("redis:7.2-bookworm", "redis:${REDIS_TAG:-7.2-bookworm}")
    assert any("${REDIS_TAG}" in p for p in _check(files, compose_text=compose_new_var))
    old_airflow = files["dockerfile"].replace("ARG AIRFLOW_VERSION=3.3.2", "ARG AIRFLOW_VERSION=3.0.0")
    assert any(
        "AIRFLOW_VERSION 3.0.0 != requirements.txt" in p for p in _check(files, dockerfile=old_airflow)
    )
    no_reqs = re.sub(r"^RUN pip install .*$", "RUN true", files["dockerfile"], flags=re.M)
    assert "Dockerfile does not install requirements.txt" in _check(files, dockerfile=no_reqs)
