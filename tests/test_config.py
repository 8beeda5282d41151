"""Settings come from PP_* variables; production refuses embedded defaults and weak secrets."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from player_platform.config import ConfigError, Settings, development_secret

PRODUCTION = {
    "PP_ENV": "production",
    "PP_DATABASE_URL": "postgresql+psycopg://pp@db/pp",
    "PP_REDIS_URL": "redis://cache:6379/0",
    "PP_STORAGE_URL": "s3://pp-bucket",
    "PP_SECRET_KEY": "s" * 48,
    "PP_KEY_VAULT_KEYS": "k1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
}


@pytest.fixture(autouse=True)
def _workdir(tmp_path, monkeypatch):
    """var/ (the development secret) is relative to the working directory, as `make run`'s."""
    monkeypatch.chdir(tmp_path)


def test_no_variables_means_the_embedded_defaults():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_in_process and settings.run_jobs_inline
    assert settings.storage_url.startswith("file://")


def test_values_are_typed():
    settings = Settings.from_env({"PP_RATE_LIMIT_AUTH_IP": "7", "PP_JOBS_INLINE": "false"})
    assert settings.rate_limit_auth_ip == 7
    assert settings.jobs_inline is False
    with pytest.raises(ConfigError, match="PP_RATE_LIMIT_AUTH_IP must be an integer"):
        Settings.from_env({"PP_RATE_LIMIT_AUTH_IP": "many"})


def test_production_starts_with_real_services_and_secrets():
    assert Settings.from_env(PRODUCTION).production


@pytest.mark.parametrize(
    "missing",
    ["PP_DATABASE_URL", "PP_REDIS_URL", "PP_STORAGE_URL", "PP_SECRET_KEY", "PP_KEY_VAULT_KEYS"],
)
def test_production_refuses_each_embedded_default(missing):
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing) as error:
        Settings.from_env(environ)
    assert "\n" not in str(error.value)


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigError, match="PP_SECRET_KEY"):
        Settings.from_env({**PRODUCTION, "PP_SECRET_KEY": "short"})


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="PP_ENV"):
        Settings.from_env({"PP_ENV": "staging"})


def test_without_a_secret_outside_production_one_is_kept_in_var(tmp_path):
    first = Settings.from_env({"PP_ENV": "development"})
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert len(first.secret_key) >= 32
    assert Settings.from_env({}).secret_key == first.secret_key  # the next process, a restart
    assert Settings.from_env({"PP_SECRET_KEY": "x" * 40}).secret_key == "x" * 40


def test_processes_racing_to_draw_the_secret_agree_on_one(tmp_path):
    draw = "import sys; from pathlib import Path; from player_platform.config import "
    draw += "development_secret; print(development_secret(Path(sys.argv[1])))"
    path = tmp_path / "var" / "secret_key"
    racers = [
        subprocess.Popen([sys.executable, "-c", draw, str(path)], stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    drawn = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert len(drawn) == 1
    assert drawn == {path.read_text().strip()}
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no drafts left behind


def test_an_emptied_secret_file_is_refused_not_used(tmp_path):
    path = Path(tmp_path / "secret_key")
    path.write_text("\n")
    with pytest.raises(ConfigError, match="delete it"):
        development_secret(path)


def test_cheap_password_hashing_is_for_tests_only():
    assert Settings.from_env({"PP_PASSWORD_HASH_COST": "cheapest"}).password_hash_cost == "cheapest"
    with pytest.raises(ConfigError, match="production refuses PP_PASSWORD_HASH_COST"):
        Settings.from_env({**PRODUCTION, "PP_PASSWORD_HASH_COST": "cheapest"})
    with pytest.raises(ConfigError, match="PP_PASSWORD_HASH_COST must be one of standard"):
        Settings.from_env({"PP_PASSWORD_HASH_COST": "free"})
    assert Settings.from_env(PRODUCTION).password_hash_cost == "standard"


def test_the_readme_documents_every_setting():
    """Each Settings field is read from PP_<NAME>; a user finds it in README.md."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [
        f"PP_{f.name.upper()}"
        for f in dataclasses.fields(Settings)
        if f"`PP_{f.name.upper()}`" not in readme
    ]
    assert missing == []


def test_a_redis_cluster_needs_a_node_and_a_plain_redis_for_the_queues():
    cluster = {"PP_REDIS_CLUSTER": "true", "PP_SECRET_KEY": "x" * 32}
    with pytest.raises(ConfigError, match="naming a node"):
        Settings.from_env(cluster)
    with pytest.raises(ConfigError, match="PP_QUEUE_REDIS_URL"):
        Settings.from_env({**cluster, "PP_REDIS_URL": "redis://node-1:6379"})
    settings = Settings.from_env(
        {**cluster, "PP_REDIS_URL": "redis://node-1:6379", "PP_QUEUE_REDIS_URL": "redis://q:6379"}
    )
    assert (settings.redis_cluster, settings.jobs_redis_url) == (True, "redis://q:6379")
    one = Settings.from_env({"PP_REDIS_URL": "redis://one:6379", "PP_SECRET_KEY": "x" * 32})
    assert one.jobs_redis_url == "redis://one:6379"
