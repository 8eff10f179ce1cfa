"""`rnntui sample`, `eval`, `gradcheck` and `corpora`, each with its bad inputs."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from cli_helpers import TINY, run
from rnntui.data.corpus import load_corpus


@pytest.fixture(scope="module")
def hello_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("hello") / "hello.safetensors"
    result = run("train", "--corpus", "hello", "--steps", "200", "--hidden", "32", "--eval-every", "100", "--out", path, "-q")
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def fables64(tmp_path_factory):
    path = tmp_path_factory.mktemp("fables") / "fables64.safetensors"
    result = run("train", *TINY, "--corpus", "fables", "--layers", "2", "--dtype", "float64", "--steps", "10", "--out", path)
    assert result.exit_code == 0, result.stderr
    return path


def test_greedy_sample_continues_the_pattern(hello_model):
    result = run("sample", "--checkpoint", hello_model, "--prompt", "hel", "--length", "17", "--temperature", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hel" + "lohellohellohello" + "\n"


def test_seeded_samples_repeat_and_top_k_one_is_greedy(fables64):
    args = ("sample", "--checkpoint", fables64, "--prompt", "The ", "--length", "40")
    a = run(*args, "--seed", "1", "--temperature", "1.5").stdout
    b = run(*args, "--seed", "1", "--temperature", "1.5").stdout
    c = run(*args, "--seed", "2", "--temperature", "1.5").stdout
    assert a == b and a != c
    assert run(*args, "--seed", "3", "--top-k", "1").stdout == run(*args, "--temperature", "0").stdout


def test_prompt_from_stdin(hello_model):
    result = run("sample", "--checkpoint", hello_model, "--stdin", "--length", "5", "--temperature", "0", input="hell")
    assert result.exit_code == 0 and result.stdout == "hellohell\n"


def test_an_unknown_prompt_character_is_named_or_skipped(hello_model):
    result = run("sample", "--checkpoint", hello_model, "--prompt", "héllo", "--length", "5")
    assert result.exit_code == 1
    assert "'é' (U+00E9) at position 1 is not in the model's vocabulary; --unknown skip" in result.stderr
    assert result.stderr.count("\n") == 1  # one line
    skipped = run("sample", "--checkpoint", hello_model, "--prompt", "héllo", "--length", "5", "--unknown", "skip",
                  "--temperature", "0")
    assert skipped.exit_code == 0
    assert "'é'" in skipped.stderr and "warning" in skipped.stderr
    assert skipped.stdout.startswith("héllo")


@pytest.mark.parametrize("option", [["--length", "-1"], ["--temperature", "-0.5"], ["--top-k", "-2"]])
def test_sample_refuses_out_of_range_options(hello_model, option):
    assert run("sample", "--checkpoint", hello_model, *option).exit_code == 2


def test_eval_reports_nats_bits_and_predictions(hello_model):
    result = run("eval", "--checkpoint", hello_model, "--corpus", "hello", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["predictions"] == 9999
    assert report["bits_per_char"] == pytest.approx(report["loss_nats"] / np.log(2))
    assert report["loss_nats"] < 0.1 and report["dtype"] == "float32"


def test_eval_in_float64_agrees_with_pytorch(fables64, tmp_path):
    torch = pytest.importorskip("torch")
    from torch_module import TorchCharRNN
    from rnntui.train.checkpoint import load_checkpoint

    grads_path = tmp_path / "grads.safetensors"
    result = run("eval", "--checkpoint", fables64, "--corpus", "fables", "--json", "--grads", grads_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dtype"] == "float64"

    ckpt = load_checkpoint(fables64)
    s = ckpt.shape
    module = TorchCharRNN(s.vocab_size, s.embedding_dim, s.hidden_size, s.num_layers, s.cell).double()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in ckpt.params.items()})
    index = {c: i for i, c in enumerate(ckpt.vocab)}
    ids = torch.tensor([[index[c] for c in load_corpus("fables").text]])
    loss = torch.nn.functional.cross_entropy(module(ids[:, :-1])[0], ids[0, 1:])
    loss.backward()
    assert report["loss_nats"] == pytest.approx(loss.item(), abs=1e-10)
    assert report["predictions"] == ids.shape[1] - 1
    ours = load_file(grads_path)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(ours[name], p.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)


def test_eval_refuses_unknown_characters_and_bad_choices(hello_model, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("hello world")
    result = run("eval", "--checkpoint", hello_model, "--text", text)
    assert result.exit_code == 1 and "' ' (U+0020) at position 5" in result.stderr
    both = run("eval", "--checkpoint", hello_model, "--text", text, "--corpus", "hello")
    assert both.exit_code == 1 and "at most one of" in both.stderr
    assert "--grads needs the text" in run("eval", "--checkpoint", hello_model, "--grads", tmp_path / "g.safetensors").stderr
    assert not (tmp_path / "g.safetensors").exists()


def test_eval_without_a_text_scores_the_whole_validation_split_as_the_run_reported_it(tmp_path):
    path, log = tmp_path / "run.safetensors", tmp_path / "log.jsonl"
    trained = run("train", *TINY, "--corpus", "fables", "--val-frac", "0.3", "--steps", "6", "--out", path, "--log", log)
    assert trained.exit_code == 0, trained.stderr
    evals = [r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "eval"]
    assert [(r["step"], r["full"]) for r in evals] == [(5, False), (6, True)]
    result = run("eval", "--checkpoint", path, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["loss_nats"] == evals[-1]["val_loss"]
    fables = load_corpus("fables").text
    assert report["predictions"] == int(len(fables) * 0.3) - 1  # every character of the split after its first


def test_eval_of_a_run_without_validation_text_says_so(tmp_path):
    path = tmp_path / "all.safetensors"
    assert run("train", *TINY, "--corpus", "fables", "--val-frac", "0", "--steps", "2", "--out", path).exit_code == 0
    result = run("eval", "--checkpoint", path)
    assert result.exit_code == 1 and "kept no validation text" in result.stderr


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"\x00" * 64])
def test_a_bad_checkpoint_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    for command in (["sample", "--checkpoint", bad], ["eval", "--checkpoint", bad, "--corpus", "hello"]):
        result = run(*command)
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rnntui: error:") and "bad.safetensors" in lines[0]
    assert bad.read_bytes() == content


def test_gradcheck_passes_for_each_cell():
    result = run("gradcheck", "--cell", "all")
    assert result.exit_code == 0, result.stdout
    for cell in ("rnn", "lstm", "gru"):
        assert cell in result.stdout
    assert "rnn.weight_hh_l1" in result.stdout and "all gradients agree" in result.stdout
    assert run("gradcheck", "--cell", "elman").exit_code == 2


def test_corpora_lists_names_sizes_and_vocabularies():
    result = run("corpora")
    assert result.exit_code == 0
    for name in ("hello", "fables", "unicode", "python", "shakespeare"):
        assert name in result.stdout
    hello_row = next(line for line in result.stdout.splitlines() if "hello" in line)
    assert "10,000" in hello_row and " 4 " in hello_row


def test_a_korean_corpus_with_thousands_of_characters_trains_samples_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    syllables = [chr(0xAC00 + i) for i in rng.choice(11172, 3000, replace=False)]
    words = ["".join(rng.choice(syllables, rng.integers(1, 4))) for _ in range(6000)]
    corpus = tmp_path / "korean.txt"
    corpus.write_text(" ".join(words) + "\n", encoding="utf-8")
    path = tmp_path / "ko.safetensors"
    result = run("train", *TINY, "--corpus", corpus, "--steps", "6", "--out", path)
    assert result.exit_code == 0, result.stderr
    from rnntui.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    assert len(ckpt.vocab) > 2900 and ckpt.params["embedding.weight"].shape[0] == len(ckpt.vocab)
    prompt = words[0]
    out = run("sample", "--checkpoint", path, "--prompt", prompt, "--length", "20", "--seed", "0")
    assert out.exit_code == 0, out.stderr
    generated = out.stdout[len(prompt):-1]
    assert len(generated) == 20 and set(generated) <= set(ckpt.vocab)
