"""`rnntui explain` and the computation under it: predictions, saliency through full BPTT, memory span."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import run
from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.train.checkpoint import Checkpoint, save_checkpoint
from rnntui.train.explain import MAX_ALL_POSITIONS, explain, explain_plain, memory_span
from rnntui.train.model_file import load_model

TEXT = "The crow said (to the fox): \"caw\", and the fox ate the cheese.\n"
VOCAB = Vocabulary.from_text(TEXT + "Q")  # Q: a character the texts never use, so it is never the target


def write_model(path, cell, dtype=np.float64, layers=2, seed=0):
    """A real checkpoint file: a seeded model saved the way the trainer saves one."""
    model = CharRNN(ModelShape(cell, VOCAB.size, 6, 9, layers), dtype=dtype, seed=seed)
    save_checkpoint(path, Checkpoint(model.shape, VOCAB.chars, dict(model.params), config={"seed": seed}))
    return path


@pytest.fixture(scope="module", params=["rnn", "lstm", "gru"])
def checkpoint(request, tmp_path_factory):
    return write_model(tmp_path_factory.mktemp(request.param) / "model.safetensors", request.param)


@pytest.fixture(scope="module")
def lstm_file(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("lstm") / "lstm.safetensors", "lstm")


def torch_explanation(path, text):
    """Per position n: (probabilities over the vocabulary, saliency of t < n) by PyTorch autograd.

    The text is one row of a batch per position, each row seeded at its own position only: the
    rows are independent, so one backward gives every position's gradient, as many backward
    passes would, in a fraction of the time.
    """
    torch = pytest.importorskip("torch")
    from torch_module import TorchCharRNN
    from rnntui.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    s = ckpt.shape
    module = TorchCharRNN(s.vocab_size, s.embedding_dim, s.hidden_size, s.num_layers, s.cell).double()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in ckpt.params.items()})
    ids = torch.tensor(VOCAB.encode(text))
    positions = torch.arange(1, len(ids))
    x = module.embedding(ids[:-1]).expand(len(positions), -1, -1).detach().requires_grad_(True)
    log_p = torch.log_softmax(module.head(module.rnn(x)[0]), dim=-1)  # [row, step, V]
    log_p[positions - 1, positions - 1, ids[positions]].sum().backward()
    probs = log_p[0].exp().detach().numpy()
    return [(probs[n - 1], x.grad[n - 1, :n].norm(dim=1).numpy()) for n in positions.tolist()]


def assert_same_top(ours, reference, rtol=1e-12):
    assert [c for c, _ in ours] == [c for c, _ in reference]
    np.testing.assert_allclose([p for _, p in ours], [p for _, p in reference], rtol=rtol, atol=0)


def assert_saliency_close(ours, reference, rtol):
    """Relative error below rtol; values below 1e-12 of the row's largest are compared absolutely at that floor."""
    floor = 1e-12 * np.max(reference)
    error = np.abs(ours - reference) / np.maximum(np.abs(reference), floor)
    assert error.max() < rtol, (error.max(), int(np.argmax(error)))


# ----- the computation ---------------------------------------------------------------------------------


def test_predictions_and_saliency_agree_with_pytorch_autograd(checkpoint):
    reference = torch_explanation(checkpoint, TEXT)
    model, vocab = load_model(checkpoint)
    found = explain(model, vocab, TEXT, top=4)
    assert [p.position for p in found.predictions] == list(range(1, len(TEXT)))
    for prediction, (probs, saliency) in zip(found.predictions, reference):
        n = prediction.position
        assert prediction.target == TEXT[n]
        assert prediction.prob == pytest.approx(probs[vocab.index(TEXT[n])], rel=1e-8)
        expected_top = np.sort(probs)[::-1][:4]
        np.testing.assert_allclose([p for _, p in prediction.top], expected_top, rtol=1e-8, atol=0)
        for char, p in prediction.top:
            assert p == pytest.approx(probs[vocab.index(char)], rel=1e-8)
        assert prediction.saliency.shape == (n,)
        assert_saliency_close(prediction.saliency, saliency, rtol=1e-8)


def test_the_vanilla_rnn_saliency_spans_orders_of_magnitude():
    # The parity test's floor matters only if some values are tiny: a long text through a vanilla RNN
    # with large recurrent weights makes them so, and they must still agree with the plain backward.
    model = CharRNN(ModelShape("rnn", VOCAB.size, 6, 9, 2), dtype=np.float64, seed=3)
    model.params["rnn.weight_hh_l0"][...] *= 0.3
    text = (TEXT * 3)[:150]
    batched, plain = explain(model, VOCAB, text), explain_plain(model, VOCAB, text)
    last = batched.predictions[-1].saliency
    assert last[0] < 1e-12 * last.max()
    for a, b in zip(batched.predictions, plain.predictions):
        assert_saliency_close(a.saliency, b.saliency, rtol=1e-8)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_the_batched_backward_equals_one_backward_per_position(checkpoint, tmp_path, dtype, rtol):
    cell = load_model(checkpoint)[0].shape.cell
    model, vocab = load_model(write_model(tmp_path / "m.safetensors", cell, dtype=dtype, layers=3, seed=5))
    batched, plain = explain(model, vocab, TEXT), explain_plain(model, vocab, TEXT)
    for a, b in zip(batched.predictions, plain.predictions):
        assert a.saliency.dtype == dtype
        assert a.top == b.top and a.prob == b.prob
        assert_saliency_close(a.saliency, b.saliency, rtol)


def test_chosen_positions_equal_their_entries_of_the_full_run(lstm_file):
    model, vocab = load_model(lstm_file)
    full = explain(model, vocab, TEXT)
    some = explain(model, vocab, TEXT, positions=[40, 3, 17])
    assert [p.position for p in some.predictions] == [3, 17, 40]
    for prediction in some.predictions:
        whole = full.at(prediction.position)
        assert_same_top(prediction.top, whole.top)
        np.testing.assert_allclose(prediction.saliency, whole.saliency, rtol=1e-12, atol=0)


def test_memory_span_is_the_mean_of_each_windows_last_saliency_by_distance(lstm_file):
    model, vocab = load_model(lstm_file)
    ids = vocab.encode(TEXT * 4)
    span = memory_span(model, ids, windows=7, length=30, seed=2)
    starts = np.random.default_rng(2).integers(0, len(ids) - 30, 7)
    last = [explain(model, vocab, vocab.decode(ids[s:s + 31]), positions=[30]).predictions[0].saliency for s in starts]
    np.testing.assert_allclose(span.saliency, np.mean(last, axis=0)[::-1], rtol=1e-10)
    assert span.distances.tolist() == list(range(1, 31))
    assert 1 <= span.within(0.5) <= span.within(0.9) <= 30


# ----- the command -------------------------------------------------------------------------------------


def test_json_holds_every_position_as_the_computation_gives_it(lstm_file):
    result = run("explain", "--checkpoint", lstm_file, "--prompt", TEXT, "--top", "3", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["text"] == TEXT
    model, vocab = load_model(lstm_file)
    expected = explain(model, vocab, TEXT, top=3).to_json()["positions"]
    assert [p["position"] for p in report["positions"]] == list(range(1, len(TEXT)))
    for got, want in zip(report["positions"], expected):
        assert got["target"] == TEXT[got["position"]] and len(got["saliency"]) == got["position"]
        assert got["top"] == want["top"] and got["prob"] == want["prob"] and got["saliency"] == want["saliency"]
        assert len(got["top"]) == 3 and [p for _, p in got["top"]] == sorted((p for _, p in got["top"]), reverse=True)


def test_one_position_from_a_text_file_equals_its_entry_of_the_full_run(lstm_file, tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    one = run("explain", "--checkpoint", lstm_file, "--text", path, "--position", "29", "--json")
    full = run("explain", "--checkpoint", lstm_file, "--text", path, "--json")
    assert one.exit_code == 0 and full.exit_code == 0, one.stderr + full.stderr
    (entry,) = json.loads(one.stdout)["positions"]
    whole = json.loads(full.stdout)["positions"][28]
    assert entry["position"] == whole["position"] == 29 and entry["target"] == TEXT[29]
    assert_same_top(entry["top"], whole["top"])
    np.testing.assert_allclose(entry["saliency"], whole["saliency"], rtol=1e-12, atol=0)


def test_the_report_shows_bars_the_actual_character_and_what_it_leaned_on(lstm_file):
    result = run("explain", "--checkpoint", lstm_file, "--prompt", TEXT, "--position", "12", "--top", "4")
    assert result.exit_code == 0, result.stderr
    model, vocab = load_model(lstm_file)
    prediction = explain(model, vocab, TEXT, positions=[12], top=4).at(12)
    lines = result.stdout.splitlines()
    assert lines[0] == f"position 12 of {len(TEXT) - 1}: the model gave the actual next character 'd' {prediction.prob:.1%}"
    for char, p in prediction.top:
        row = next(line for line in lines if line.startswith(repr(char)))
        assert f"{p:.1%}" in row and ("█" in row) and (("← actual" in row) == (char == "d"))
    assert any("← actual" in line and line.startswith("'d'") for line in lines)  # the actual one is always shown
    assert TEXT[:12] + "d" in result.stdout  # the text read, then the predicted character
    most = int(np.argmax(prediction.saliency))
    leaned = lines[lines.index(next(line for line in lines if "What it leaned on most" in line)) + 4]
    assert f"│ {repr(TEXT[most])}" in leaned and f"│ {most} " in leaned and f"│ {12 - most} " in leaned


def test_memory_prints_a_table_and_json(lstm_file, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT * 5, encoding="utf-8")
    text_args = ("--checkpoint", lstm_file, "--memory", "--text", corpus, "--windows", "5", "--length", "40")
    as_json = run("explain", *text_args, "--json")
    assert as_json.exit_code == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["distance"] == list(range(1, 41)) and len(report["saliency"]) == 40
    model, vocab = load_model(lstm_file)
    span = memory_span(model, vocab.encode(TEXT * 5), windows=5, length=40, seed=0)
    assert report["saliency"] == span.saliency.tolist()
    table = run("explain", *text_args)
    assert table.exit_code == 0, table.stderr
    assert "5 windows of 40 characters" in table.stdout
    assert f"half of the saliency lies within {span.within(0.5)} characters back" in table.stdout
    row = next(line for line in table.stdout.splitlines() if line.startswith("│ 40 "))
    assert f"{span.saliency[-1]:.3e}" in row


def test_explain_does_not_import_textual(lstm_file):
    probe = (
        "import sys\nfrom rnntui.cli import main\nsys.argv = ['rnntui'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('TEXTUAL' if any(m.split('.')[0] == 'textual' for m in sys.modules) else 'CLEAN')\n"
    )
    args = ["explain", "--checkpoint", str(lstm_file), "--prompt", "The crow", "--position", "3"]
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().endswith("CLEAN"), result.stderr[-300:]


LONG = "the crow " * (MAX_ALL_POSITIONS // 9 + 1)


@pytest.mark.parametrize("args, code, message", [
    (["--prompt", "The crow é"], 1, "'é' (U+00E9) at position 9 is not in the model's vocabulary"),
    (["--prompt", "The crow", "--position", "0"], 2, "--position 0 is out of range: this text's predictions are at 1 to 7"),
    (["--prompt", "The crow", "--position", "8"], 2, "--position 8 is out of range"),
    (["--prompt", "T"], 1, "at least two characters"),
    (["--prompt", LONG], 1, f"the text has {len(LONG):,} characters; every position is explained up to 2,000"),
    ([], 1, "give exactly one of --prompt STRING or --text FILE"),
    (["--prompt", "The", "--corpus", "fables"], 1, "--corpus goes with --memory"),
    (["--memory", "--prompt", "The crow"], 1, "--memory reads windows of --text FILE or --corpus NAME"),
    (["--memory", "--corpus", "unicode"], 1, "is not in the model's vocabulary"),
])
def test_bad_input_is_refused_in_one_line(lstm_file, args, code, message):
    result = run("explain", "--checkpoint", lstm_file, *args)
    assert result.exit_code == code, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("rnntui: error:")


def test_memory_windows_longer_than_the_text_are_refused(lstm_file, tmp_path):
    path = tmp_path / "short.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = run("explain", "--checkpoint", lstm_file, "--memory", "--text", path, "--length", "64")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert f"the text has {len(TEXT)} characters; windows of 64 need 65: pick a smaller --length" in result.stderr


def test_one_position_of_a_text_too_long_to_explain_whole(lstm_file):
    result = run("explain", "--checkpoint", lstm_file, "--prompt", LONG, "--position", "7", "--json")
    assert result.exit_code == 0, result.stderr
    (entry,) = json.loads(result.stdout)["positions"]
    assert entry["position"] == 7 and entry["target"] == "w" and len(entry["saliency"]) == 7


def test_options_out_of_their_range_are_usage_errors(lstm_file, tmp_path):
    assert run("explain", "--checkpoint", lstm_file, "--prompt", "The", "--top", "0").exit_code == 2
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    result = run("explain", "--checkpoint", bad, "--prompt", "The crow")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "bad.safetensors" in result.stderr
