"""``python -m toolkit.train``, its progress bar, weights files and plots (infrastructure).

The command runs in-process on a tiny fake dataset passed to ``main``, so no MNIST is needed
and every run takes well under a second.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kata import generate
from kata.curriculum import CURRICULUM
from kata.paths import REPOSITORY
from reference import models as reference_models
from toolkit import plots, progress, train, weights


def fake_dataset(seed: int = 0, n_train: int = 96, n_other: int = 32) -> SimpleNamespace:
    """Random images of MNIST's shape and dtypes, random labels: enough to run every path."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal((n, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, size=n, dtype=np.int64)
        return x, y

    x_train, y_train = split(n_train)
    x_val, y_val = split(n_other)
    x_test, y_test = split(n_other)
    return SimpleNamespace(
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test
    )


def run_main(
    argv: list[str], dataset: object = None, progress: bool | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = train.main(
        argv,
        dataset=fake_dataset() if dataset is None else dataset,
        out=out,
        err=err,
        progress=progress,
    )
    return status, out.getvalue(), err.getvalue()


def without_times(text: str) -> str:
    """The output with the timings (in square brackets) removed: what a seed must reproduce."""
    return re.sub(r"\[[^\]]*\]", "[...]", text)


@pytest.mark.parametrize("network", ["two_layer_net", "mlp", "lenet5"])
def test_trains_every_network_and_prints_epochs_and_test_accuracy(network):
    status, out, err = run_main([network, "--epochs", "2", "--batch-size", "32"], progress=True)
    assert status == 0
    assert re.search(r"^epoch 1/2: train loss \d+\.\d{4} acc \d+\.\d\d% \| validation", out, re.M)
    assert re.search(r"^epoch 2/2: ", out, re.M)
    assert re.search(r"^test loss \d+\.\d{4} acc \d+\.\d\d%  \[total .* ex/s\]$", out, re.M)
    # tqdm's last state of each epoch: batches, times, running loss and accuracy, throughput
    final = [line.rsplit("\r", 1)[-1] for line in err.rstrip("\n").split("\n")]
    assert len(final) == 2, err
    for epoch, line in enumerate(final, start=1):
        assert re.fullmatch(
            rf"epoch {epoch}/2 100%\|\S+\| 3/3 batches \[\d\d:\d\d<00:00\], "
            r"loss \d+\.\d{4}, acc \d+\.\d\d%, [\d,]+ ex/s",
            line,
        ), line


def test_the_progress_bar_is_off_when_stderr_is_not_a_terminal():
    status, out, err = run_main(["two_layer_net", "--epochs", "1"])
    assert status == 0 and "epoch 1/1: train loss" in out
    assert err == ""


@pytest.fixture
def own_package(tmp_path):
    """``tmp_path/exercises``: a package of copies of reference's modules, as a learner who
    solved everything would have; ``sys.modules`` gets its ``exercises`` back afterwards."""
    package = tmp_path / "exercises"
    package.mkdir()
    for source in (REPOSITORY / "reference").glob("*.py"):
        shutil.copy(source, package / source.name)
    ours = [name for name in sys.modules if name == "exercises" or name.startswith("exercises.")]
    before = {name: sys.modules[name] for name in ours}
    yield package
    for name in [name for name in sys.modules if name.split(".")[0] == "exercises"]:
        del sys.modules[name]
    sys.modules.update(before)


def with_stub(package: Path, module: str) -> None:
    """Replace ``package/<module>.py`` by its pristine stub, as the generator writes it."""
    stubs = generate.stubs(generate.read_reference(REPOSITORY, CURRICULUM))
    (package / f"{module}.py").write_text(stubs[f"{module}.py"], encoding="utf-8")


def own(package: Path, *argv: str) -> list[str]:
    return [*argv, "--impl", "exercises", "--impl-dir", str(package.parent)]


def test_the_learners_own_network_trains_like_the_reference(own_package):
    argv = ["mlp", "--epochs", "2", "--seed", "3"]
    status, theirs, _ = run_main(own(own_package, *argv))
    assert status == 0
    assert Path(sys.modules["exercises.models"].__file__).parent == own_package
    assert theirs.startswith("mlp (exercises): 814,090 parameters")
    _, reference, _ = run_main(argv)
    assert without_times(theirs).replace("mlp (exercises)", "mlp") == without_times(reference)


def test_the_learners_network_writes_its_weights_and_figures(own_package, tmp_path):
    pytest.importorskip("matplotlib")
    plot, save = tmp_path / "lenet5.png", tmp_path / "lenet5.npz"
    argv = own(own_package, "lenet5", "--epochs", "1", "--plot", str(plot), "--save", str(save))
    status, out, _ = run_main(argv, progress=True)
    assert status == 0
    for path in (plot, save, tmp_path / "lenet5-mistakes.png", tmp_path / "lenet5-filters.png"):
        assert str(path) in out and path.is_file()


def test_a_stubbed_model_is_named_with_the_grade_command(own_package):
    with_stub(own_package, "models")
    status, out, err = run_main(own(own_package, "mlp", "--epochs", "1"))
    assert status == 1
    assert out == ""
    assert err.startswith("Your network cannot train yet: mlp in ")
    assert f"{own_package / 'models.py'} (line " in err
    assert "is not written (mnist_mlp: implement mlp in exercises/models.py)" in err
    assert "`nox -s grade -- mnist_mlp`" in err
    assert "Traceback" not in err and err.count("\n") == 1  # one paragraph


def test_a_stubbed_layer_is_named_with_its_exercise(own_package):
    with_stub(own_package, "linear")
    status, out, err = run_main(own(own_package, "two_layer_net", "--epochs", "1"))
    assert status == 1
    assert out.startswith("two_layer_net (exercises): 7,960 parameters")  # built, then trained
    assert err.startswith(f"Your network cannot train yet: Linear.forward in {own_package}")
    assert "`nox -s grade -- linear`" in err and "Traceback" not in err


def test_a_layer_without_forward_is_named_where_the_network_calls_it(own_package):
    source = (own_package / "activations.py").read_text()
    (own_package / "activations.py").write_text(source + "\ndel ReLU.forward\n")
    status, _, err = run_main(own(own_package, "two_layer_net", "--epochs", "1"))
    assert status == 1
    assert err.startswith("Your network cannot train yet: ReLU.forward is not written, called ")
    assert f"from Sequential.forward in {own_package / 'network.py'} (line " in err
    assert f"(the class is in {own_package / 'activations.py'})" in err
    assert "`nox -s grade -- activations`" in err


def test_a_module_that_does_not_import_is_named_with_its_line(own_package):
    source = (own_package / "pool.py").read_text()
    (own_package / "pool.py").write_text(source + "\ndef broken(:\n    pass\n")
    line = source.count("\n") + 2
    status, out, err = run_main(own(own_package, "lenet5"))
    assert status == 1 and out == ""
    assert err.startswith("Cannot import your exercises package: ")
    assert f"{own_package / 'pool.py'}, line {line}: SyntaxError" in err
    assert "`nox -s grade -- pool`" in err and "Traceback" not in err


def test_an_error_raised_while_importing_names_the_file_and_line(own_package):
    source = (own_package / "optim.py").read_text()
    (own_package / "optim.py").write_text(source + "\nBETAS = undefined_name\n")
    status, _, err = run_main(own(own_package, "mlp"))
    assert status == 1
    line = source.count("\n") + 2
    assert f"{own_package / 'optim.py'}, line {line}: NameError" in err
    assert "`nox -s grade -- optim`" in err


def test_a_models_module_without_the_network_says_so(own_package):
    with (own_package / "models.py").open("a") as file:
        file.write('\ndel NETWORKS["mlp"]\n')
    status, _, err = run_main(own(own_package, "mlp"))
    assert status == 1
    assert f"{own_package / 'models.py'} has no network 'mlp' in NETWORKS" in err


def test_ctrl_c_ends_the_run_with_a_line_not_a_traceback(monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train", interrupted)
    status, _, err = run_main(["mlp", "--save", str(tmp_path / "w.npz")])
    assert status == 130
    assert err == "\ninterrupted: nothing more is saved or plotted\n"
    assert not (tmp_path / "w.npz").exists()


def test_the_networks_the_command_offers_are_those_of_the_reference():
    assert tuple(reference_models.NETWORKS) == train.NETWORK_NAMES


def test_same_seed_gives_identical_numbers_and_weights(tmp_path):
    runs = []
    for name in ("first.npz", "second.npz"):
        status, out, _ = run_main(
            ["lenet5", "--epochs", "2", "--seed", "7", "--save", str(tmp_path / name)]
        )
        assert status == 0
        runs.append(without_times(out).replace(name, "<file>"))
    assert runs[0] == runs[1]
    first = weights.read_params(tmp_path / "first.npz")
    second = weights.read_params(tmp_path / "second.npz")
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_another_seed_gives_other_numbers():
    _, first, _ = run_main(["mlp", "--epochs", "1", "--seed", "1"])
    _, second, _ = run_main(["mlp", "--epochs", "1", "--seed", "2"])
    assert without_times(first).replace("seed 1", "seed 2") != without_times(second)


def test_save_then_load_and_evaluate_only_reproduces_the_test_accuracy(tmp_path):
    path = tmp_path / "two_layer_net.npz"
    _, out, _ = run_main(["two_layer_net", "--epochs", "1", "--save", str(path)])
    trained_test_line = re.search(r"^test loss \S+ acc \S+", out, re.M).group(0)
    status, out, _ = run_main(["two_layer_net", "--load", str(path), "--evaluate-only"])
    assert status == 0
    assert "epoch 1" not in out and "evaluating on test 32 images" in out
    assert re.search(r"^test loss \S+ acc \S+", out, re.M).group(0) == trained_test_line


PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("network", "figures"),
    [
        ("two_layer_net", ["curves-mistakes.png", "curves.png"]),
        ("lenet5", ["curves-filters.png", "curves-mistakes.png", "curves.png"]),
    ],
)
def test_plot_writes_the_curves_the_mistakes_and_the_filters_of_a_convolution(
    tmp_path, network, figures
):
    pytest.importorskip("matplotlib")
    status, out, _ = run_main([network, "--epochs", "2", "--plot", str(tmp_path / "curves.png")])
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == figures  # and no temporary left behind
    for name in figures:
        assert (tmp_path / name).read_bytes().startswith(PNG), name
        assert str(tmp_path / name) in out


def test_the_confusion_matrix_counts_true_rows_and_predicted_columns():
    counts = plots.confusion_matrix(np.array([0, 0, 3, 9, 9]), np.array([0, 5, 3, 9, 1]))
    expected = np.zeros((10, 10), dtype=np.int64)
    expected[0, 0] = expected[0, 5] = expected[3, 3] = expected[9, 9] = expected[9, 1] = 1
    np.testing.assert_array_equal(counts, expected)


def test_a_network_without_mistakes_gets_its_figure_too(tmp_path):
    pytest.importorskip("matplotlib")
    labels = np.arange(10)
    path = plots.plot_mistakes(tmp_path / "m.png", np.zeros((10, 28, 28)), labels, labels)
    assert path.read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["resnet"], "argument network: invalid choice: 'resnet'"),
        (["mlp", "--epochs", "0"], "argument --epochs: expected an integer >= 1, got 0"),
        (["mlp", "--batch-size", "x"], "argument --batch-size: expected an integer >= 1"),
        (["mlp", "--load", "no/such/weights.npz"], "argument --load: no such file"),
        (["mlp", "--evaluate-only"], "argument --evaluate-only: needs --load"),
        (["mlp", "--data-dir", "no/such/dir"], "argument --data-dir: no such directory"),
        (["mlp", "--impl-dir", "no/such/dir"], "argument --impl-dir: no package reference there"),
    ],
)
def test_bad_arguments_are_named(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(argv)
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err


class Untouchable:
    """A dataset that fails the test when anything reads it: nothing may start."""

    def __getattr__(self, name):
        raise AssertionError(f"the data was read ({name}) before the arguments were refused")


def refused(argv: list[str], capsys) -> str:
    """The argparse error of a run that must stop before reading data or printing anything."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv, dataset=Untouchable(), out=out, err=err)
    assert exit_info.value.code == 2
    assert out.getvalue() == "" and err.getvalue() == ""  # no run line, no epoch, no bar
    return capsys.readouterr().err


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_output_onto_a_directory_is_refused_before_training(tmp_path, capsys, option):
    message = refused(["mlp", option, str(tmp_path)], capsys)
    assert f"error: argument {option}: {tmp_path} is a directory, not a file" in message


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_output_into_a_missing_directory_is_refused_before_training(tmp_path, capsys, option):
    message = refused(["mlp", option, str(tmp_path / "missing" / "out.png")], capsys)
    assert f"error: argument {option}: no directory {tmp_path / 'missing'}" in message
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_output_under_a_file_is_refused_before_training(tmp_path, capsys, option):
    # root may write anywhere: a parent that is a file is unwritable for everyone
    (tmp_path / "notes.txt").write_text("a file")
    message = refused(["mlp", option, str(tmp_path / "notes.txt" / "out.png")], capsys)
    assert f"error: argument {option}: {tmp_path / 'notes.txt'} is a file" in message
    deeper = refused(["mlp", option, str(tmp_path / "notes.txt" / "a" / "out.png")], capsys)
    assert f"{tmp_path / 'notes.txt'} is a file, so there is no directory" in deeper


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_output_into_a_directory_without_write_permission_is_refused(
    tmp_path, capsys, monkeypatch, option
):
    asked = []

    def no_write(path, mode):
        asked.append((Path(path), mode))
        return False

    monkeypatch.setattr(train.os, "access", no_write)
    message = refused(["mlp", option, str(tmp_path / "out.png")], capsys)
    assert f"error: argument {option}: cannot write into the directory {tmp_path}" in message
    assert asked[0] == (tmp_path, os.W_OK | os.X_OK)


def test_a_figure_beside_the_plot_that_is_a_directory_is_refused(tmp_path, capsys):
    (tmp_path / "lenet5-mistakes.png").mkdir()
    message = refused(["lenet5", "--plot", str(tmp_path / "lenet5.png")], capsys)
    assert f"argument --plot: {tmp_path / 'lenet5-mistakes.png'} is a directory" in message


def test_saving_onto_a_figure_of_the_plot_is_refused(tmp_path, capsys):
    plot, save = tmp_path / "mlp.png", tmp_path / "mlp-mistakes.png"
    message = refused(["mlp", "--plot", str(plot), "--save", str(save)], capsys)
    assert "argument --save:" in message and "is also a figure of --plot" in message


def test_weights_of_another_network_are_refused_naming_the_difference(tmp_path, capsys):
    path = tmp_path / "two_layer_net.npz"
    run_main(["two_layer_net", "--epochs", "1", "--save", str(path)])
    with pytest.raises(SystemExit):
        run_main(["mlp", "--load", str(path), "--evaluate-only"])
    message = capsys.readouterr().err
    assert "argument --load: the weights in" in message
    assert "0.W has shape (784, 10) in the file, (784, 1024) in the network" in message, message


def test_load_params_changes_nothing_when_a_name_is_missing(tmp_path):
    params = {"0.W": np.ones((2, 3), np.float32), "0.b": np.zeros(3, np.float32)}
    weights.save_params({"0.W": np.full((2, 3), 5.0)}, tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"missing 0\.b"):
        weights.load_params(params, tmp_path / "w.npz")
    np.testing.assert_array_equal(params["0.W"], 1.0)


def test_load_params_writes_in_place_and_keeps_the_dtype(tmp_path):
    weight = np.zeros((2, 3), np.float32)
    params = {"0.W": weight}
    weights.save_params({"0.W": np.arange(6.0).reshape(2, 3)}, tmp_path / "w.npz")
    weights.load_params(params, tmp_path / "w.npz")
    assert params["0.W"] is weight and weight.dtype == np.float32
    np.testing.assert_array_equal(weight, np.arange(6.0).reshape(2, 3))


def test_load_params_reports_unexpected_names_and_shapes(tmp_path):
    params = {"0.W": np.zeros((2, 3))}
    weights.save_params({"0.W": np.zeros((3, 2)), "1.W": np.zeros(1)}, tmp_path / "w.npz")
    with pytest.raises(ValueError) as error:
        weights.load_params(params, tmp_path / "w.npz")
    assert "unexpected 1.W" in str(error.value)
    assert "0.W has shape (3, 2) in the file, (2, 3) in the network" in str(error.value)


def test_a_file_that_is_not_weights_is_refused(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("not a zip file")
    with pytest.raises(ValueError, match="not a weights file"):
        weights.read_params(path)


def test_save_params_is_atomic_and_writes_the_exact_path(tmp_path, monkeypatch):
    path = tmp_path / "weights.bin"
    weights.save_params({"a": np.ones(2)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        weights.save_params({"a": np.zeros(2)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]  # no half file
    np.testing.assert_array_equal(weights.read_params(path)["a"], np.ones(2))


def two_layer_weights(tmp_path) -> Path:
    path = tmp_path / "two_layer_net.npz"
    assert run_main(["two_layer_net", "--epochs", "1", "--save", str(path)])[0] == 0
    return path


def write_npz(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def corrupt_files(tmp_path) -> dict[str, tuple[Path, str]]:
    """Bad weights files by kind, each with a part of the message that names what is wrong."""
    good = two_layer_weights(tmp_path)
    saved = weights.read_params(good)
    text = tmp_path / "text.npz"
    text.write_text("not a zip file")
    npy = tmp_path / "one-array.npz"
    np.save(npy.open("wb"), saved["0.W"])
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    )
    huge = write_npz(
        tmp_path / "huge.npz",
        {**{f"{k}.npy": npy_bytes(v) for k, v in saved.items()}, "0.W.npy": header.getvalue()},
    )
    short = write_npz(
        tmp_path / "short.npz",
        {
            **{f"{k}.npy": npy_bytes(v) for k, v in saved.items()},
            "0.b.npy": npy_bytes(saved["0.b"])[:-8],
        },
    )
    objects = write_npz(
        tmp_path / "objects.npz",
        {
            **{f"{k}.npy": npy_bytes(v) for k, v in saved.items()},
            "0.b.npy": npy_bytes(np.array([None] * 10, dtype=object)),
        },
    )
    strings = write_npz(
        tmp_path / "strings.npz",
        {
            **{f"{k}.npy": npy_bytes(v) for k, v in saved.items()},
            "0.b.npy": npy_bytes(np.full(10, "x")),
        },
    )
    other = write_npz(tmp_path / "other.npz", {"readme.txt": b"hello"})
    renamed = {("layer0.W" if k == "0.W" else k): v for k, v in saved.items()}
    wrong_keys = tmp_path / "wrong-keys.npz"
    np.savez(wrong_keys, **renamed)
    wrong_shape = tmp_path / "wrong-shape.npz"
    np.savez(wrong_shape, **{**saved, "0.W": saved["0.W"].T})
    nan = tmp_path / "nan.npz"
    np.savez(nan, **{**saved, "2.b": np.where(np.arange(10) == 3, np.nan, saved["2.b"])})
    inf = tmp_path / "inf.npz"
    np.savez(inf, **{**saved, "0.W": np.full_like(saved["0.W"], np.inf)})
    return {
        "text": (text, "is not a weights file written by save_params (not an .npz archive"),
        "npy": (npy, "holds one unnamed array (.npy), not named weights (.npz)"),
        "truncated": (truncated, "not an .npz archive"),
        "huge": (huge, "0.W has shape (1000000000000,) in the file, (784, 10) in the network"),
        "short": (short, "the weights are damaged"),
        "objects": (objects, "0.b holds object values, not numbers"),
        "strings": (strings, "0.b holds <U1 values, not numbers"),
        "other": (other, "it holds 'readme.txt', not arrays"),
        "wrong keys": (wrong_keys, "missing 0.W; unexpected layer0.W"),
        "wrong shape": (wrong_shape, "0.W has shape (10, 784) in the file, (784, 10) in the"),
        "nan": (nan, "2.b holds 1 NaN and 0 infinite of 10 values"),
        "inf": (inf, "0.W holds 0 NaN and 7,840 infinite of 7,840 values"),
    }


KINDS = [
    "text", "npy", "truncated", "huge", "short", "objects", "strings", "other",
    "wrong keys", "wrong shape", "nan", "inf",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_weights_file_is_refused_naming_the_file_and_the_parameter(tmp_path, capsys, kind):
    path, expected = corrupt_files(tmp_path)[kind]
    capsys.readouterr()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        train.main(
            ["two_layer_net", "--load", str(path), "--evaluate-only"],
            dataset=Untouchable(),
            out=out,
            err=err,
        )
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "error: argument --load: " in message and str(path) in message, message
    assert expected in message, message
    assert "Traceback" not in message and out.getvalue() == ""


@pytest.mark.parametrize("kind", ["huge", "nan", "wrong shape"])
def test_load_params_changes_nothing_when_the_file_is_refused(tmp_path, kind):
    path, _ = corrupt_files(tmp_path)[kind]
    saved = weights.read_params(tmp_path / "two_layer_net.npz")
    params = {name: np.zeros_like(value) for name, value in saved.items()}
    with pytest.raises(ValueError):
        weights.load_params(params, path)
    assert all(not value.any() for value in params.values())


def test_weights_holding_nan_are_not_saved(tmp_path):
    path = tmp_path / "w.npz"
    with pytest.raises(weights.NotFiniteError, match=r"b holds 2 NaN and 1 infinite of 4 values"):
        weights.save_params({"W": np.ones(2), "b": np.array([np.nan, np.nan, np.inf, 0])}, path)
    assert not path.exists()


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_run_that_diverges_does_not_save_and_says_why(tmp_path):
    dataset = fake_dataset()
    dataset.x_train[0, 0, 0, 0] = np.inf  # the first batch's loss and gradients turn to NaN
    path = tmp_path / "w.npz"
    status, out, err = run_main(["two_layer_net", "--epochs", "1", "--save", str(path)], dataset)
    assert status == 1
    assert "epoch 1/1: train loss nan" in out
    assert f"weights not saved to {path}: the training diverged" in err
    assert not path.exists()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_epoch_progress_shows_batches_running_loss_accuracy_and_throughput():
    stream, clock = io.StringIO(), FakeClock()
    with progress.EpochProgress(4, "epoch 1/3", stream=stream, disable=False, clock=clock) as bar:
        for batch, (loss, correct) in enumerate([(2.0, 1), (1.0, 2), (1.0, 3), (0.5, 4)], 1):
            clock.now = batch * 1.0
            bar(10 if batch < 4 else 5, loss, correct)  # the last batch is short
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    # running means: loss (10*2 + 10*1 + 10*1 + 5*0.5) / 35, accuracy 10/35; 35 ex in 4 s
    assert last.startswith("epoch 1/3 100%|")
    assert last.endswith("| 4/4 batches [00:00<00:00], loss 1.2143, acc 28.57%, 9 ex/s"), last


def test_epoch_progress_draws_nothing_on_a_stream_that_is_not_a_terminal():
    stream = io.StringIO()
    with progress.EpochProgress(3, "epoch 1/1", stream=stream) as bar:
        for _ in range(3):
            bar(8, 0.5, 4)
    assert stream.getvalue() == ""
    assert bar.summary().startswith("loss 0.5000, acc 50.00%, ")


def test_plots_say_how_to_install_matplotlib_when_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    from toolkit import plots

    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        plots.require_matplotlib()
    with pytest.raises(SystemExit):
        run_main(["mlp", "--plot", "curves.png"])
