"""``python -m toolkit.train``, its progress bar, weights files and plots (infrastructure).

The command runs in-process on a tiny fake dataset passed to ``main``, so no MNIST is needed
and every run takes well under a second.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit import progress, train, weights


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


def run_main(argv: list[str], dataset: SimpleNamespace | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = train.main(
        argv, dataset=fake_dataset() if dataset is None else dataset, out=out, err=err
    )
    return status, out.getvalue(), err.getvalue()


def without_times(text: str) -> str:
    """The output with the timings (in square brackets) removed: what a seed must reproduce."""
    return re.sub(r"\[[^\]]*\]", "[...]", text)


@pytest.mark.parametrize("network", ["two_layer_net", "mlp", "lenet5"])
def test_trains_every_network_and_prints_epochs_and_test_accuracy(network):
    status, out, err = run_main([network, "--epochs", "2", "--batch-size", "32"])
    assert status == 0
    assert re.search(r"^epoch 1/2: train loss \d+\.\d{4} acc \d+\.\d\d% \| validation", out, re.M)
    assert re.search(r"^epoch 2/2: ", out, re.M)
    assert re.search(r"^test loss \d+\.\d{4} acc \d+\.\d\d%  \[total .* ex/s\]$", out, re.M)
    assert "epoch 1/2 [####################] 3/3 loss" in err, err  # the progress bar's last line


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


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    status, _, _ = run_main(["two_layer_net", "--epochs", "2", "--plot", str(path)])
    assert status == 0
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temporary left behind


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["resnet"], "argument network: invalid choice: 'resnet'"),
        (["mlp", "--epochs", "0"], "argument --epochs: expected an integer >= 1, got 0"),
        (["mlp", "--batch-size", "x"], "argument --batch-size: expected an integer >= 1"),
        (["mlp", "--load", "no/such/weights.npz"], "argument --load: no such file"),
        (["mlp", "--evaluate-only"], "argument --evaluate-only: needs --load"),
        (["mlp", "--save", "no/such/dir/w.npz"], "argument --save: no directory"),
        (["mlp", "--data-dir", "no/such/dir"], "argument --data-dir: no such directory"),
    ],
)
def test_bad_arguments_are_named(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(argv)
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err


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


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_redraws_one_line_on_a_terminal():
    stream, clock = io.StringIO(), FakeClock()
    bar = progress.ProgressBar(4, "epoch 1/1", stream=stream, is_tty=True, clock=clock)
    for done in range(1, 5):
        clock.now = done * 1.0
        bar.update(done, done * 10, loss=1.0 / done)
    bar.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 5  # four updates and the final redraw
    last = text.rstrip("\n").split("\r")[-1]
    assert last == "epoch 1/1 [####################] 4/4 loss 0.2500  10 ex/s"


def test_progress_bar_logs_plain_lines_when_not_a_terminal():
    stream, clock = io.StringIO(), FakeClock()
    bar = progress.ProgressBar(
        100, "epoch 1/1", stream=stream, is_tty=False, log_every=10.0, clock=clock
    )
    for done in range(1, 101):
        clock.now = done * 0.5  # 50 s in all: a line every 10 s, and the last one at close
        bar.update(done, done * 64, loss=0.5, accuracy=0.75)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert len(lines) == 6  # at 10, 20, 30, 40, 50 s, and at close
    assert lines[-1] == (
        "epoch 1/1 [####################] 100/100 loss 0.5000 acc  75.00%  128 ex/s"
    )


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
