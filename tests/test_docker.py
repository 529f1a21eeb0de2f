"""docker/: compose validates with a real client, and the files keep the deployment's promises."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.config import Secrets, env_name, load_config, secret_env_name, sections, setting_types

from .conftest import peers_required

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"


# --- reading the files ---------------------------------------------------------------------


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def env_of(dockerfile: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, args in instructions(dockerfile):
        if name == "ENV":
            for pair in args.split():
                key, _, value = pair.partition("=")
                found[key] = value
    return found


def default_of(value: str) -> str:
    """A compose value with each ${VAR:-default} replaced by its default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def hub_dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKER / "Dockerfile")


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


# --- the compose client --------------------------------------------------------------------


def compose_client() -> list[str] | None:
    """`docker compose` (the v2 plugin) if it answers, else Debian's `docker-compose`."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def run_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    client = compose_client()
    if client is None:
        reason = "no compose client: install the docker compose plugin or `docker-compose`"
        if peers_required():
            pytest.fail(reason)
        pytest.skip(reason)
    return subprocess.run(
        [*client, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_compose_config_validates_with_the_client() -> None:
    result = run_config({**os.environ, "HUB_SECRET_KEY": "a-test-secret"})
    assert result.returncode == 0, result.stderr


def test_compose_config_refuses_to_run_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HUB_SECRET_KEY"}
    result = run_config(env)
    assert result.returncode != 0 and "HUB_SECRET_KEY" in result.stderr


# --- compose.yaml --------------------------------------------------------------------------


def test_mongo_runs_as_replica_set_rs0(compose: dict[str, Any]) -> None:
    command = compose["services"]["mongo"]["command"]
    assert command[command.index("--replSet") + 1] == "rs0"


def test_mongo_healthcheck_initiates_the_replica_set_and_waits_for_a_primary(
    compose: dict[str, Any],
) -> None:
    check = healthcheck_text(compose["services"]["mongo"])
    assert "rs.initiate(" in check and "_id: 'rs0'" in check and "host: 'mongo:27017'" in check
    assert "isWritablePrimary" in check and "quit(1)" in check


def test_the_hub_waits_for_a_healthy_mongo(compose: dict[str, Any]) -> None:
    depends = compose["services"]["hub"]["depends_on"]
    assert depends["mongo"]["condition"] == "service_healthy"


def test_the_hub_uses_the_replica_set(compose: dict[str, Any]) -> None:
    url = compose["services"]["hub"]["environment"]["HUB_STORE_URL"]
    assert url.startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in url


def test_the_secret_key_comes_from_the_callers_environment(compose: dict[str, Any]) -> None:
    value = compose["services"]["hub"]["environment"]["HUB_SECRET_KEY"]
    assert value.startswith("${HUB_SECRET_KEY:?")


def test_the_hub_environment_names_only_real_settings(
    compose: dict[str, Any], hub_dockerfile: list[tuple[str, str]]
) -> None:
    known = {"HUB_CONFIG"} | {secret_env_name(f.name) for f in dataclasses.fields(Secrets)}
    for section, kind in sections().items():
        known |= {env_name(section, name) for name in setting_types(kind)}
    names = set(compose["services"]["hub"]["environment"]) | set(env_of(DOCKER / "Dockerfile"))
    assert {n for n in names if n.startswith("HUB_")} - known == set()


def test_the_container_settings_load_and_bind_every_interface(compose: dict[str, Any]) -> None:
    env = {**env_of(DOCKER / "Dockerfile"), "HUB_CONFIG": str(ROOT / "config" / "hub.toml")}
    for name, value in compose["services"]["hub"]["environment"].items():
        if not value.startswith("${HUB_SECRET_KEY"):
            env[name] = default_of(value)
    config = load_config(env=env)
    assert config.server.host == "0.0.0.0" and config.server.port == 8080
    assert config.store.url.startswith("mongodb://mongo:27017/")


def test_every_published_port_is_on_loopback(compose: dict[str, Any]) -> None:
    ports = [p for s in compose["services"].values() for p in s.get("ports", [])]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports)


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    for name in ("hub", "mongo", "prosody", "dovecot"):
        mounts = compose["services"][name]["volumes"]
        assert all(m.split(":", 1)[0] in compose["volumes"] for m in mounts), name


def test_the_development_peers_are_there(compose: dict[str, Any]) -> None:
    assert {"hub", "mongo", "prosody", "dovecot", "mailpit"} <= set(compose["services"])


# --- the Dockerfiles -----------------------------------------------------------------------


def test_the_image_is_python_311_slim(hub_dockerfile: list[tuple[str, str]]) -> None:
    bases = [args.split()[0] for name, args in hub_dockerfile if name == "FROM"]
    assert bases and all(b == "python:3.11-slim" for b in bases)


def test_the_image_runs_as_a_non_root_user(hub_dockerfile: list[tuple[str, str]]) -> None:
    users = [args for name, args in hub_dockerfile if name == "USER"]
    assert users, "no USER instruction: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_healthcheck_polls_healthz_with_python(
    hub_dockerfile: list[tuple[str, str]],
) -> None:
    checks = [args for name, args in hub_dockerfile if name == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/healthz" in checks[0] and "urllib.request" in checks[0] and "curl" not in checks[0]


def test_the_image_serves_the_hub(hub_dockerfile: list[tuple[str, str]]) -> None:
    commands = [args for name, args in hub_dockerfile if name == "CMD"]
    assert commands[-1] == '["hub", "serve"]'
    assert env_of(DOCKER / "Dockerfile")["HUB_SERVER_HOST"] == "0.0.0.0"


@pytest.mark.parametrize(
    ("dockerfile", "context"),
    [
        (DOCKER / "Dockerfile", ROOT),
        (DOCKER / "prosody" / "Dockerfile", DOCKER / "prosody"),
        (DOCKER / "dovecot" / "Dockerfile", DOCKER / "dovecot"),
    ],
    ids=["hub", "prosody", "dovecot"],
)
def test_every_copied_file_exists_in_the_build_context(dockerfile: Path, context: Path) -> None:
    for name, args in instructions(dockerfile):
        if name == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert (context / source).exists(), f"{dockerfile}: COPY {source}"


def test_the_dockerignore_lets_every_copied_file_through(
    hub_dockerfile: list[tuple[str, str]],
) -> None:
    allowed = [
        line[1:].rstrip("/")
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for name, args in hub_dockerfile:
        if name == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert source.rstrip("/") in allowed, source
