"""Bad `adactx train longlora --config` files: one line naming the file and the field, never a traceback."""

import pytest
from adactx.kernels.train_config import LongLoRATrainConfig
from helpers import one_error_line, run_cli

from adactx.errors import AdactxError

GOOD = "data_files: [corpus.txt]\n"

CASES = [
    ("bad-yaml", "c.yaml", b"data_files: [a\nsteps: 3\n", "cannot parse"),
    ("steps-ten", "c.yaml", GOOD.encode() + b"steps: ten\n", "steps: expected an integer, got 'ten'"),
    ("target-length-string", "c.yaml", GOOD.encode() + b'target_length: "4096"\n', "target_length: expected an integer"),
    ("lora-r-null", "c.yaml", GOOD.encode() + b"lora_r: null\n", "lora_r: expected an integer, got None"),
    ("empty-yaml", "c.yaml", b"", "empty"),
    ("list-yaml", "c.yaml", b"- a\n- b\n", "expected a mapping of fields, got a list"),
    ("non-utf8", "c.yaml", b"data_files: [caf\xe9.txt]\n", "not UTF-8"),
    ("bad-toml", "c.toml", b"data_files = [\n", "cannot parse"),
    ("bad-json", "c.json", b"{data_files: 1}", "cannot parse"),
    ("bool-as-int", "c.json", b'{"data_files": ["a"], "steps": true}', "steps: expected an integer"),
    ("nan-lr", "c.yaml", GOOD.encode() + b"learning_rate: .nan\n", "learning_rate: expected a number"),
    ("files-not-list", "c.json", b'{"data_files": 3}', "data_files: expected a list of strings"),
    ("longlora-not-table", "c.toml", b"longlora = 3\n", "must be a table"),
]


@pytest.mark.parametrize("case,name,content,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_one_line(tmp_path, capsys, case, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    line = one_error_line(*run_cli(capsys, "train", "longlora", "--config", path))
    assert str(path) in line and expected in line, line


def test_yaml_reads_2e_minus_5_as_a_string_and_the_config_takes_it_as_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + "learning_rate: 2e-5\nrope_factor: 2\n")
    cfg = LongLoRATrainConfig.from_file(path)
    assert cfg.learning_rate == pytest.approx(2e-5) and isinstance(cfg.learning_rate, float)
    assert cfg.rope_factor == 2


def test_direct_construction_is_checked_too():
    with pytest.raises(AdactxError, match="LongLoRATrainConfig.gradient_checkpointing: expected true or false"):
        LongLoRATrainConfig(data_files=["x"], gradient_checkpointing="yes")
