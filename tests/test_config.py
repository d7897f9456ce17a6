import pytest
import yaml

from shared import config
from shared.config import ParameterError


def test_default_profile_is_complete_and_valid():
    params = config.load("default")
    assert set(config.PARAMETERS) <= set(params)
    assert params["source"] == "completejourney" and params["profile"] == "default"


def test_profiles_override_defaults():
    smoke = config.load("smoke")
    assert smoke["source"] == "synthetic"
    assert smoke["max_basket_size"] == config.load("default")["max_basket_size"]
    assert config.load("full")["min_item_count"] == 1


def test_override_layers_and_yaml_values(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("min_item_count: 7\ntest_weeks: 3\n")
    params = config.load("smoke", f, ["test_weeks=5", "k_values=[5, 50]", "test_fraction=0.2"])
    assert params["min_item_count"] == 7 and params["test_weeks"] == 5
    assert params["k_values"] == [5, 50] and params["test_fraction"] == 0.2


def test_int_is_accepted_for_float():
    assert config.load("smoke", overrides=["validation_fraction=0"])["validation_fraction"] == 0.0


@pytest.mark.parametrize(
    "override, message",
    [
        ("min_itm_count=3", "unknown parameter 'min_itm_count'"),
        ("min_item_count=ten", "parameter 'min_item_count': expected int"),
        ("min_item_count=0", "below the minimum"),
        ("source=oracle", "'oracle' is not one of"),
        ("item_level=aisle", "parameter 'item_level'"),
        ("k_values=[0, 10]", "parameter 'k_values'"),
        ("seed=true", "parameter 'seed': expected int"),
        ("nonsense", "expected KEY=VALUE"),
    ],
)
def test_bad_parameters_name_the_parameter(override, message):
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("(", r"\(")):
        config.load("smoke", overrides=[override])


def test_unknown_profile_and_missing_files(tmp_path):
    with pytest.raises(ParameterError, match="unknown profile 'huge'"):
        config.load("huge")
    with pytest.raises(ParameterError, match="does not exist"):
        config.load("smoke", tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n- not a mapping\n")
    with pytest.raises(ParameterError, match="expected a mapping"):
        config.load("smoke", bad)


def test_file_source_needs_an_existing_path_and_columns(tmp_path):
    with pytest.raises(ParameterError, match="parameter 'path'"):
        config.load("smoke", overrides=["source=file"])
    with pytest.raises(ParameterError, match="does not exist"):
        config.load("smoke", overrides=["source=file", f"path={tmp_path}/missing.csv", "columns={basket_id: b, item_id: i}"])


def test_default_yaml_documents_every_parameter():
    text = (config.PARAMS_DIR / "default.yaml").read_text()
    assert set(yaml.safe_load(text)) == set(config.PARAMETERS)
