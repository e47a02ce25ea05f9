"""Configuration from the environment; production refuses development defaults."""

import pytest

from registry.core.config import SIMULATOR_ACCOUNT_SID, ConfigError, load_config

REAL = {
    "REGISTRY_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "DATA_KEY": "d" * 40,
    "DATABASE_URL": "postgresql+psycopg://db/registry",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "real-token",
    "TWILIO_VERIFY_SERVICE_SID": "VA" + "1" * 32,
    "PUBLIC_BASE_URL": "https://registry.example.com/",
    "RATELIMIT_STORAGE_URI": "redis://redis:6379",
}


def test_development_defaults_work_offline(tmp_path):
    config = load_config(tmp_path, {})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["TWILIO_API_URL"] == "http://127.0.0.1:5001"
    assert config["TWILIO_ACCOUNT_SID"] == SIMULATOR_ACCOUNT_SID
    assert config["DEFAULT_REGION"] == "CN"
    assert config["CALLBACK_MAX_ATTEMPTS"] == 3 and config["RECORD_CALLS"] is True
    # Generated secrets are kept, so sessions survive a restart.
    assert load_config(tmp_path, {})["SECRET_KEY"] == config["SECRET_KEY"]
    assert (tmp_path / "data_key").stat().st_mode & 0o077 == 0


def test_production_with_real_values(tmp_path):
    config = load_config(tmp_path, REAL)
    assert config["TWILIO_API_URL"] == ""  # Twilio itself
    assert config["PUBLIC_BASE_URL"] == "https://registry.example.com"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("missing_or_bad", "value"),
    [
        ("SECRET_KEY", None),
        ("DATA_KEY", None),
        ("DATA_KEY", "short"),
        ("TWILIO_ACCOUNT_SID", SIMULATOR_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", None),
        ("RATELIMIT_STORAGE_URI", None),
        ("RATELIMIT_STORAGE_URI", "memory://"),
    ],
)
def test_production_refuses_development_defaults(tmp_path, missing_or_bad, value):
    env = dict(REAL)
    if value is None:
        env.pop(missing_or_bad)
    else:
        env[missing_or_bad] = value
    with pytest.raises(ConfigError, match=missing_or_bad):
        load_config(tmp_path, env)


@pytest.mark.parametrize(
    ("name", "value"),
    [("CALLBACK_MAX_ATTEMPTS", "three"), ("OUTBOUND_CPS", "-1"), ("RECORD_CALLS", "maybe"),
     ("REGISTRY_ENV", "staging"), ("POOL_LOW_WATERMARK", "150"), ("POOL_AUTO_BUY_MAX", "-2"),
     ("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD"), ("TRUSTED_PROXIES", "-1"), ("TRUSTED_PROXIES", "two"),
     ("SCHEDULER_METRICS_PORT", "70000")],
)
def test_bad_tunables_are_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_config(tmp_path, {name: value})


def test_tunables_are_read(tmp_path):
    config = load_config(tmp_path, {"CALLBACK_MAX_ATTEMPTS": "5", "RECORD_CALLS": "false",
                                    "SHOPPER_CALL_HOURS": "09:00-20:00"})
    assert config["CALLBACK_MAX_ATTEMPTS"] == 5 and config["RECORD_CALLS"] is False
    assert config["SHOPPER_CALL_HOURS"] == "09:00-20:00"


def test_operations_settings_are_read(tmp_path):
    config = load_config(tmp_path, {"LOG_FORMAT": "JSON", "LOG_LEVEL": "debug", "TRUSTED_PROXIES": "2",
                                    "SCHEDULER_METRICS_PORT": "9101", "METRICS_TOKEN": "t"})
    assert (config["LOG_FORMAT"], config["LOG_LEVEL"], config["TRUSTED_PROXIES"]) == ("json", "DEBUG", 2)
    assert config["SCHEDULER_METRICS_PORT"] == 9101 and config["METRICS_TOKEN"] == "t"
    defaults = load_config(tmp_path, {})
    assert (defaults["LOG_FORMAT"], defaults["TRUSTED_PROXIES"], defaults["SCHEDULER_METRICS_PORT"]) == \
        ("text", 0, 0)
    assert defaults["RATELIMIT_STORAGE_URI"] == "memory://"  # fine on one development process


def test_production_names_the_variable_when_rate_limits_would_be_per_process(tmp_path):
    env = {**REAL, "RATELIMIT_STORAGE_URI": "memory://"}
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI.*redis"):
        load_config(tmp_path, env)


def test_the_ports_make_run_was_given_lead_a_command_to_the_same_simulator_and_address(tmp_path):
    config = load_config(tmp_path, {"REGISTRY_ENV": "development", "PORT": "5200", "SIMULATOR_PORT": "5201"})
    assert (config["TWILIO_API_URL"], config["PUBLIC_BASE_URL"]) == ("http://127.0.0.1:5201",
                                                                     "http://127.0.0.1:5200")
    default = load_config(tmp_path, {"REGISTRY_ENV": "development"})
    assert (default["TWILIO_API_URL"], default["PUBLIC_BASE_URL"]) == ("http://127.0.0.1:5001",
                                                                       "http://127.0.0.1:5000")
