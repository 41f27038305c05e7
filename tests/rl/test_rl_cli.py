"""`adactx eval`: help text, one-line user errors, the subcommands left as they were."""

import pytest
from typer.testing import CliRunner

from adactx.cli import app, main


def test_eval_help_lists_the_options_and_subcommands():
    result = CliRunner().invoke(app, ["eval", "--help"])
    assert result.exit_code == 0
    for text in (
        "--policies",
        "--data",
        "--sensitivity",
        "--lambda",
        "--budget",
        "--out",
        "--select-on",
        "--summary-quantile",
        "perplexity",
        "passkey",
    ):
        assert text in result.output


def test_bad_lambda_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--lambda", "zero", "--n", "1"])
    assert exc.value.code == 2
    assert "--lambda" in capsys.readouterr().err


def test_unknown_policy_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--policies", "best-ever", "--n", "1"])
    assert exc.value.code == 2
    assert "unknown policy" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("split", "expected"), [("val", "is the split reported on"), ("nosuch", "unknown split 'nosuch'")]
)
def test_select_on_a_bad_split_is_a_one_line_error_before_any_run(capsys, tmp_path, split, expected):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--data", "qmsum:val", "--select-on", split, "--n", "1", "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0] and not out.exists()
