from __future__ import annotations

import pickle

import pytest

from cleancorpus.config import ConfigError, Frozen, load_config


def test_defaults_load_and_are_frozen_and_hashable():
    cfg = load_config()
    assert isinstance(cfg["filter"], Frozen)
    assert hash(cfg) == hash(load_config())
    with pytest.raises(TypeError):
        cfg["filter"]["min_chars"] = 3  # type: ignore[index]


def test_file_overrides_key_by_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[filter]\nmin_chars = 7\n[run]\njobs = 2\n")
    cfg = load_config(path)
    assert cfg["filter"]["min_chars"] == 7 and cfg["run"]["jobs"] == 2
    assert cfg["io"] == load_config()["io"]  # untouched sections keep their defaults


def test_overrides_beat_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[filter]\nmin_chars = 7\n")
    assert load_config(path, {"filter.min_chars": 9})["filter"]["min_chars"] == 9


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"filter.nope": 1}, "unknown config key 'filter.nope'"),
        ({"nope.x": 1}, "unknown config key 'nope'"),
        ({"filter.min_chars": "x"}, "config key 'filter.min_chars' must be int, got str"),
        ({"run.jobs": True}, "config key 'run.jobs' must be int, got bool"),
        ({"io.include": "*.txt"}, "config key 'io.include' must be list"),
    ],
)
def test_unknown_keys_and_wrong_types_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(overrides=overrides)


def test_int_accepted_for_float():
    cfg = load_config()
    float_key = next(
        (
            f"{s}.{k}"
            for s, sec in cfg.items()
            if isinstance(sec, Frozen)
            for k, v in sec.items()
            if isinstance(v, float)
        ),
        None,
    )
    if float_key is None:
        pytest.skip("no float key in the defaults")
    assert isinstance(load_config(overrides={float_key: 1}).get_path(float_key), float)


def test_pickles_for_worker_processes():
    cfg = load_config()
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[x\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)


def test_equal_configs_compare_without_walking_them(monkeypatch):
    # Stages cache compiled settings by config; a second, equal config object was compared
    # key by key through Mapping.items on every call (10-15% of a run's time).
    a, b = load_config(), load_config()
    walked = []
    monkeypatch.setattr(Frozen, "__iter__", lambda self: walked.append(1) or iter(self._data))
    assert a is not b and a == b and a["fix"] == b["fix"]
    assert not walked
    assert a != a.replace({"dedup.threshold": 0.9}) and a["fix"] != {"x": 1}
