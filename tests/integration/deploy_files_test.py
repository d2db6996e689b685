"""Checks the deployment files without a Docker engine: deploy/docker-compose.yml structure
(python3-yaml) and, when installed, `docker-compose config` for every profile; the gateway
configs with `perpgwd --check-config` (secrets from secrets.example.env); deploy/prometheus.yml
with promtool when installed; .env is git-ignored. (The images and the compose stack are run
for real by scripts/container-test.sh, by hand.)

  deploy_files_test.py REPO_ROOT [PERPGWD]
"""
import os
import shutil
import subprocess
import sys
import tempfile

import yaml


def env_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def main():
    root = sys.argv[1]
    perpgwd = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    d = os.path.join(root, "deploy")
    with open(os.path.join(d, "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    svcs = compose["services"]
    assert "version" not in compose, "obsolete top-level version key"
    gateways = ("perpgwd", "perpgwd-real", "perpgwd-md")
    strategies = ("strategy", "strategy-real", "strategy-md")
    proms = {"prometheus": ("sim", "perpgwd"), "prometheus-real": ("real", "perpgwd-real"),
             "prometheus-md": ("real-md", "perpgwd-md")}
    for name in ("perpgw-sim",) + tuple(proms) + gateways + strategies:
        assert name in svcs, name
    assert svcs["perpgwd"]["profiles"] == ["sim"] and svcs["perpgwd-real"]["profiles"] == ["real"]
    assert svcs["perpgwd-md"]["profiles"] == ["real-md"]
    # One Prometheus per profile, scraping that profile's gateway by service name (no network
    # aliases: podman-compose 1.0.3 cannot set them).
    for name, (profile, gateway) in proms.items():
        assert svcs[name]["profiles"] == [profile], name
        cfg = next(v.split(":")[0] for v in svcs[name]["volumes"] if "prometheus.yml" in v)
        with open(os.path.join(d, cfg)) as f:
            targets = yaml.safe_load(f)["scrape_configs"][0]["static_configs"][0]["targets"]
        assert targets == [gateway + ":9464"], (name, targets)
    for name in gateways:
        assert svcs[name]["env_file"] == [".env"], name
        assert "build" in svcs[name], name + " builds the image"
    # Strategies get their token and nothing else (no env_file with the venue secrets).
    for name in strategies:
        assert "env_file" not in svcs[name], name
        assert set(svcs[name]["environment"]) == {"PERPGW_ADDR", "PERPGW_TOKEN_STRATEGY"}, name
    # One image, built once: the sim runs the gateway's image without building it.
    assert "build" not in svcs["perpgw-sim"]
    assert svcs["perpgw-sim"]["image"] == svcs["perpgwd"]["image"]
    assert "../config:/etc/perpgw:ro" in svcs["perpgwd"]["volumes"]
    for name in ("perpgwd", "perpgwd-real"):
        assert any(v.endswith(":/var/lib/perpgw") for v in svcs[name]["volumes"]), \
            name + ": the order journal on a named volume"
    for name in gateways:
        assert "networks" not in svcs[name], name
        for p in svcs[name]["ports"]:
            assert p.startswith("127.0.0.1:"), "publish on loopback only: " + p
    for vol in sum((s.get("volumes", []) for s in svcs.values()), []):
        src = vol.split(":")[0]
        if src.startswith("."):
            assert os.path.exists(os.path.join(d, src)), "missing mount source " + src
    for s in svcs.values():
        b = s.get("build") or {}
        if b:
            assert os.path.exists(os.path.join(d, b["context"], b["dockerfile"])), b
    ignore = open(os.path.join(d, ".gitignore")).read().split()
    assert ".env" in ignore
    print("ok: compose structure (%d services), mounts, build files, prometheus.yml" % len(svcs))

    secrets = env_file(os.path.join(d, "secrets.example.env"))
    dc = shutil.which("docker-compose")
    with tempfile.TemporaryDirectory() as tmp:
        if dc:
            # `config` needs the env file to exist: run on a copy of deploy/ with the example.
            work = os.path.join(tmp, "deploy")
            shutil.copytree(d, work, ignore=shutil.ignore_patterns("secrets.env", ".env"))
            shutil.copy(os.path.join(d, "secrets.example.env"), os.path.join(work, ".env"))
            os.symlink(os.path.join(root, "config"), os.path.join(tmp, "config"))
            open(os.path.join(tmp, "Dockerfile"), "w").close()
            for profile in ("sim", "real", "real-md"):
                r = subprocess.run([dc, "--profile", profile, "config", "-q"], cwd=work,
                                   capture_output=True, text=True)
                assert r.returncode == 0, (profile, r.stderr)
            print("ok: docker-compose config (sim, real, real-md)")
        else:
            print("SKIP docker-compose config: docker-compose not installed (structure checked)")
        promtool = shutil.which("promtool")
        if promtool:
            for cfg in ("prometheus.yml", "prometheus-real.yml", "prometheus-md.yml"):
                r = subprocess.run([promtool, "check", "config", "--syntax-only",
                                    os.path.join(d, cfg)], capture_output=True, text=True)
                assert r.returncode == 0, r.stdout + r.stderr
            print("ok: promtool check config")
        if perpgwd:
            real_env = dict(secrets)
            for k in ("ASTER_API_KEY", "ASTER_API_SECRET"):
                real_env[k] = "placeholder-" + k.lower()
            # Backpack credentials are checked for signing at load: a real-format key pair
            # (the sim's public throwaway one) stands in for yours.
            real_env["BACKPACK_API_KEY"] = secrets["SIM_BACKPACK_API_KEY"]
            real_env["BACKPACK_API_SECRET"] = secrets["SIM_BACKPACK_API_SECRET"]
            for cfg, env in ((os.path.join(root, "config/docker.yaml"), secrets),
                             (os.path.join(d, "perpgwd-real.yaml"), real_env),
                             (os.path.join(d, "perpgwd-real-md.yaml"), secrets)):
                r = subprocess.run([perpgwd, "--config", cfg, "--check-config"],
                                   env=dict(os.environ, **env), capture_output=True, text=True)
                assert r.returncode == 0, (cfg, r.stdout, r.stderr)
                print("ok:", r.stdout.strip())
            # 0.0.0.0 without the token env: refused (a missing secret, then no tokens at all).
            env = dict(os.environ, **secrets)
            env.pop("PERPGW_TOKEN_STRATEGY")
            r = subprocess.run([perpgwd, "--config", os.path.join(root, "config/docker.yaml"),
                                "--check-config"], env=env, capture_output=True, text=True)
            assert r.returncode != 0 and "PERPGW_TOKEN_STRATEGY" in r.stderr, r.stderr
            assert "change-me" not in r.stderr, "a secret value leaked into an error"
            print("ok: docker.yaml refuses to start without the strategy token")
    print("PASS deploy_files_test")


if __name__ == "__main__":
    try:
        main()
    except AssertionError:
        import traceback
        traceback.print_exc()
        sys.exit(1)
