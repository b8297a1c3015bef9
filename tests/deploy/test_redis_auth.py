"""Redis asks for a password, from a Secret (Kubernetes) or the environment (Compose), for an ACL
user limited to soundloop's keys and commands; AOF and maxmemory stay. The ACL is also tried on a
real redis-server started with the manifest's own arguments, against every command the code sends.
"""
from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

import cluster_manifests as cm
import manifest_checks as mc
import pytest


@pytest.fixture
def d():
    return cm.manifests()


def redis_args(d) -> tuple[list[str], dict]:
    deployment = next(x for x in d["redis"] if x["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return container.get("command", []) + container.get("args", []), container


def acl_users(args: list[str]) -> dict[str, list[str]]:
    """The `--user NAME RULE...` options of redis-server's arguments: name -> rules."""
    users, current = {}, None
    for arg in args:
        if arg.startswith("--"):
            current = "" if arg == "--user" else None
        elif current == "":
            current = arg
            users[arg] = []
        elif current:
            users[current].append(arg)
    return users


def server_options(args: list[str]) -> dict[str, str]:
    return {a: args[i + 1] for i, a in enumerate(args[:-1]) if a.startswith("--") and a != "--user"}


def _env_refs_problems(env: list[dict], where: str) -> list[str]:
    """$(VAR) in a value must name a variable declared earlier in the list (else it stays literal)."""
    problems, declared = [], set()
    for var in env:
        for ref in cm.K8S_REF.findall(var.get("value", "")):
            if ref not in declared:
                problems.append(f"{where}: {var['name']} uses $({ref}) before (or without) declaring it")
        declared.add(var["name"])
    return problems


def acl_problems(where: str, args: list[str], password_ok) -> list[str]:
    """No default user; `soundloop` on, with one password that `password_ok` accepts, limited to its
    keys and to no @dangerous command; AOF and maxmemory kept."""
    problems, users = [], acl_users(args)
    if users.get("default") != ["off"]:
        problems.append(f"{where}: the default user must be off, got {users.get('default')}")
    rules = users.get("soundloop", [])
    passwords = [r for r in rules if r.startswith((">", "#"))]
    if len(passwords) != 1 or not password_ok(passwords[0]) or "nopass" in rules:
        problems.append(f"{where}: user soundloop needs one password, from REDIS_PASSWORD, got {passwords}")
    if rules[:1] != ["on"] or "~sl:*" not in rules or "-@all" not in rules:
        problems.append(f"{where}: user soundloop should be on, limited to keys sl:* from -@all, got {rules}")
    if {"allkeys", "~*", "+@all", "allcommands", "+@dangerous"} & set(rules) or rules[-1:] != ["-@dangerous"]:
        problems.append(f"{where}: user soundloop may not reach every key or @dangerous commands")
    options = server_options(args)
    for option, value in (("--appendonly", "yes"), ("--appendfsync", "everysec"),
                          ("--maxmemory-policy", "volatile-lru")):
        if options.get(option) != value:
            problems.append(f"{where}: keep {option} {value}")
    if not options.get("--maxmemory"):
        problems.append(f"{where}: keep a --maxmemory")
    return problems


def redis_auth_problems(d) -> list[str]:
    args, container = redis_args(d)
    env = container.get("env", [])
    compose_redis = d["compose"]["services"]["redis"]
    compose_args = compose_redis["command"][1:]
    problems = acl_problems("redis.yaml", args, lambda p: p == ">$(REDIS_PASSWORD)")
    problems += acl_problems("compose redis", compose_args,
                             lambda p: mc.compose_required_variables(p) == {"REDIS_PASSWORD"})
    if cm.secret_ref(env, "REDIS_PASSWORD") != ("soundloop-redis", "password"):
        problems.append("redis.yaml: REDIS_PASSWORD should come from Secret soundloop-redis key password")

    def normalized(users: dict) -> dict:
        return {user: [">PASSWORD" if r.startswith(">") else r for r in rules] for user, rules in users.items()}

    if normalized(acl_users(args)) != normalized(acl_users(compose_args)):
        problems.append("redis.yaml and docker-compose.yml give Redis different ACL rules")
    probe = " ".join(container.get("readinessProbe", {}).get("exec", {}).get("command", []))
    auth = next((e.get("value") for e in env if e["name"] == "REDISCLI_AUTH"), None)
    if "--user soundloop" not in probe or auth != "$(REDIS_PASSWORD)":
        problems.append("redis.yaml: the readiness probe should log in as soundloop (REDISCLI_AUTH)")
    test = " ".join(compose_redis.get("healthcheck", {}).get("test", []))
    auth = str((compose_redis.get("environment") or {}).get("REDISCLI_AUTH", ""))
    if "--user soundloop" not in test or "REDIS_PASSWORD" not in mc.compose_required_variables(auth):
        problems.append("compose redis: the healthcheck should log in as soundloop (REDISCLI_AUTH)")
    return problems + redis_client_problems(d)


def redis_client_problems(d) -> list[str]:
    """Every SOUNDLOOP_REDIS_URL logs in as soundloop with the password from the Secret / environment."""
    problems = []
    for where, _, container in cm.containers(d):
        env = container.get("env", [])
        problems += _env_refs_problems(env, where)
        url = next((e.get("value", "") for e in env if e["name"] == "SOUNDLOOP_REDIS_URL"), None)
        if url is None:
            continue
        parsed = urllib.parse.urlsplit(url)
        if (parsed.username, parsed.password) != ("soundloop", "$(REDIS_PASSWORD)"):
            problems.append(f"{where}: SOUNDLOOP_REDIS_URL should be redis://soundloop:$(REDIS_PASSWORD)@..., "
                            f"got {url}")
        if cm.secret_ref(env, "REDIS_PASSWORD") != ("soundloop-redis", "password"):
            problems.append(f"{where}: REDIS_PASSWORD should come from Secret soundloop-redis key password")
    for name, service in d["compose"]["services"].items():
        url = str((service.get("environment") or {}).get("SOUNDLOOP_REDIS_URL", ""))
        parsed = urllib.parse.urlsplit(mc.interpolate_defaults(url, {"REDIS_PASSWORD": "from-env"}))
        if url and ((parsed.username, parsed.password) != ("soundloop", "from-env")
                    or "REDIS_PASSWORD" not in mc.compose_required_variables(url)):
            problems.append(f"compose {name}: SOUNDLOOP_REDIS_URL should be "
                            "redis://soundloop:${REDIS_PASSWORD:?...}@...")
    return problems


@pytest.mark.unit
def test_redis_requires_a_password_from_a_secret(d):
    assert redis_auth_problems(d) == []


@pytest.mark.unit
def test_redis_auth_check_catches_drift(d):
    _, container = redis_args(d)
    args = container["args"]
    args[args.index("default") + 1] = "on"
    container["env"] = [e for e in container["env"] if e["name"] != "REDIS_PASSWORD"]
    args.remove("--appendonly")
    compose_cmd = d["compose"]["services"]["redis"]["command"]
    compose_cmd[compose_cmd.index("~sl:*")] = "~*"
    d["compose"]["services"]["gateway"]["environment"]["SOUNDLOOP_REDIS_URL"] = "redis://redis:6379/0"
    head = d["rayservice"]["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["env"] = [e for e in head["env"] if e["name"] != "REDIS_PASSWORD"] + [
        e for e in head["env"] if e["name"] == "REDIS_PASSWORD"]  # declared after the URL that uses it
    problems = redis_auth_problems(d)
    for needle in ("redis.yaml: the default user must be off", "compose redis: user soundloop may not reach",
                   "redis.yaml: REDIS_PASSWORD should come from Secret",
                   "keep --appendonly", "different ACL rules", "compose gateway: SOUNDLOOP_REDIS_URL",
                   "head ray-head: SOUNDLOOP_REDIS_URL uses $(REDIS_PASSWORD) before"):
        assert any(needle in p for p in problems), (needle, problems)


# ---------------------------------------------------------------- the ACL on a real Redis

# Arguments that make each command (as the code sends it) valid for ACL DRYRUN.
SAMPLE_ARGS = {
    "GET": ["sl:k"], "SET": ["sl:k", "v"], "APPEND": ["sl:k", "v"], "STRLEN": ["sl:k"],
    "INCRBYFLOAT": ["sl:k", "1.5"], "DEL": ["sl:k"], "EXPIRE": ["sl:k", "60"], "TIME": [], "PING": [],
    "HSET": ["sl:h", "f", "v"], "HGET": ["sl:h", "f"], "HGETALL": ["sl:h"],
    "RPUSH": ["sl:l", "v"], "LRANGE": ["sl:l", "0", "-1"], "LLEN": ["sl:l"],
    "XADD": ["sl:x", "MAXLEN", "~", "10", "*", "f", "v"], "XRANGE": ["sl:x", "-", "+"],
    "XREVRANGE": ["sl:x", "+", "-"], "XTRIM": ["sl:x", "MAXLEN", "10"],
    "ZADD": ["sl:z", "1", "m"], "ZREM": ["sl:z", "m"], "ZCARD": ["sl:z"], "ZSCORE": ["sl:z", "m"],
    "ZREMRANGEBYSCORE": ["sl:z", "-inf", "1"],
    "EVAL": ["return 1", "1", "sl:k"], "EVALSHA": ["0" * 40, "1", "sl:k"],
    "SCRIPT": ["LOAD", "return 1"], "MULTI": [], "EXEC": [], "DISCARD": [],
}
# redis-py methods that are not one command of the same name.
CLIENT_METHODS = {"delete": ["DEL"], "register_script": ["EVALSHA", "SCRIPT"], "pipeline": ["MULTI", "EXEC"],
                  "execute": [], "aclose": [], "close": []}
DENIED = [["FLUSHALL"], ["FLUSHDB"], ["KEYS", "*"], ["DEBUG", "SLEEP", "0"], ["CONFIG", "GET", "*"],
          ["SHUTDOWN"], ["GET", "other"], ["SET", "other", "v"], ["EVAL", "return 1", "1", "other"],
          ["SCRIPT", "FLUSH"], ["PUBLISH", "c", "m"], ["CLIENT", "LIST"], ["SCAN", "0"]]


def commands_the_code_sends() -> dict[str, str]:
    """Redis commands in the code's Lua scripts and redis-py calls -> where one was seen."""
    found = {}
    for path in sorted([*(mc.REPO / "services").rglob("*.py"), *(mc.REPO / "soundloop").rglob("*.py")]):
        text = path.read_text()
        if not re.search(r"^\s*(import|from) redis", text, re.MULTILINE):
            continue
        where = str(path.relative_to(mc.REPO))
        for command in re.findall(r"redis\.p?call\(\s*['\"](\w+)['\"]", text):
            found.setdefault(command.upper(), where)
        for method in re.findall(r"\b(?:self\._redis|pipe|client)\.(\w+)\(", text):
            for command in CLIENT_METHODS.get(method, [method.upper()]):
                found.setdefault(command, where)
    return found


@contextlib.contextmanager
def redis_with(args: list[str]):
    """A redis-server on a free loopback port with `args`, plus an admin user for ACL DRYRUN."""
    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen([shutil.which("redis-server"), *args, "--user", "acl-test-admin", "on", ">admin",
                                 "~*", "&*", "+@all", "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            admin = redis.Redis(port=port, username="acl-test-admin", password="admin")
            for _ in range(250):
                try:
                    admin.ping()
                    break
                except redis.ConnectionError:
                    assert proc.poll() is None, f"redis-server exited with {proc.returncode}"
                    time.sleep(0.02)
            yield port, admin
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_acl_admits_the_code_and_refuses_the_rest():
    import redis

    args, _ = redis_args(cm.manifests())
    args = [a.replace("$(REDIS_PASSWORD)", "acl-test-password") for a in args]
    with redis_with(args) as (port, admin):
        if int(admin.info("server")["redis_version"].split(".")[0]) < 7:
            pytest.skip("ACL DRYRUN needs Redis 7")
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=port).ping()
        client = redis.Redis.from_url(f"redis://soundloop:acl-test-password@127.0.0.1:{port}/0")
        assert client.ping()
        script = client.register_script("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('TIME')[1]")
        assert script(keys=["sl:acl-test"], args=["v"])  # EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("not-soundloop")
        used = commands_the_code_sends()
        unknown = sorted(set(used) - set(SAMPLE_ARGS))
        assert not unknown, f"add sample arguments for {unknown} (seen in {[used[c] for c in unknown]})"
        for command in used:
            reply = admin.execute_command("ACL", "DRYRUN", "soundloop", command, *SAMPLE_ARGS[command])
            assert reply == b"OK", f"{command} ({used[command]}) is refused to soundloop: {reply}"
        for command in DENIED:
            try:
                reply = admin.execute_command("ACL", "DRYRUN", "soundloop", *command)
            except redis.ResponseError as error:  # a command this Redis does not know
                reply = str(error).encode()
            assert reply != b"OK", f"{command} should be refused to soundloop"


@pytest.mark.unit
def test_the_code_scan_finds_the_session_store_commands():
    used = commands_the_code_sends()
    assert {"EVALSHA", "HSET", "XADD", "EXPIRE", "PING"} <= set(used), used


