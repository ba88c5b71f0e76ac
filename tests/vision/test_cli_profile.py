"""``mlcanon profile``: a bundled name or package.module:callable, and an input shape."""

from mlcanon import cli


def test_profile_bundled_model(capsys):
    assert cli.main(["profile", "mobilenet_v2", "--input", "3x64x64"]) == 0
    out = capsys.readouterr().out
    assert "params 3,504,872" in out and "1 MAC = 2 FLOPs" in out
    assert "features.0.0" in out and "flatten" not in out  # zero-cost rows hidden by default


def test_profile_import_path_and_all_rows(capsys):
    assert cli.main(["profile", "mlcanon.models:mobilenet_v1", "--input", "3x32x32", "--all"]) == 0
    assert "flatten" in capsys.readouterr().out


def test_profile_errors(capsys):
    assert cli.main(["profile", "resnet9000"]) == 2
    assert "name must be one of" in capsys.readouterr().err
    assert cli.main(["profile", "ghostnet", "--input", "3xabc"]) == 2
    assert "input_shape must look like '3x224x224'" in capsys.readouterr().err
    assert cli.main(["profile", "ghostnet", "--input", "1x32x32"]) == 2
    assert "model failed on an input of shape (1, 1, 32, 32)" in capsys.readouterr().err


def test_profile_star_note_only_when_a_row_has_a_star(capsys):
    # the note "RF with * : ..." was printed for every model with global pooling (its 'global'
    # rows carry the global-context flag) although no row showed a '*'
    assert cli.main(["profile", "mobilenet_v2", "--input", "3x64x48", "--all"]) == 0
    out = capsys.readouterr().out
    assert "*" not in out.replace("RF with *", "")  # MobileNetV2 has no squeeze-excitation
    assert "RF with *" not in out
    assert cli.main(["profile", "mobilenet_v3_small", "--input", "3x64x48"]) == 0
    out = capsys.readouterr().out
    assert "7*" in out and "RF with *" in out  # its SE blocks pool the whole map
