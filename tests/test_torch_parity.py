"""The engine against PyTorch's own modules, where PyTorch is installed (it is never required)."""

import numpy as np
import pytest

from rnntui.engine.model import CharRNN
from rnntui.engine.optim import make_optimizer
from rnntui.engine.shape import ModelShape

torch = pytest.importorskip("torch")

from torch_module import TorchCharRNN  # noqa: E402  (needs torch, checked just above)


def twin(cell, V=13, D=5, H=7, L=2):
    ours = CharRNN(ModelShape(cell, V, D, H, L), dtype=np.float64, seed=3)
    theirs = TorchCharRNN(V, D, H, L, cell).double()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.params.items()}, strict=True)
    return ours, theirs


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_loss_and_gradients_agree_with_pytorch(cell):
    ours, theirs = twin(cell)
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 13, (4, 9)), rng.integers(0, 13, (4, 9))
    loss = ours.forward(inputs, targets).loss
    ours.backward()
    logits = theirs(torch.from_numpy(inputs))
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 13), torch.from_numpy(targets).reshape(-1))
    ref.backward()
    assert loss == pytest.approx(ref.item(), abs=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.grads[name], p.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("vocab", [5, 50])
def test_embedding_fold_and_gather_paths_agree_with_pytorch(cell, vocab):
    """B*T = 24: the first layer's projection is a gathered table row at V=5, a gather and GEMM at V=50."""
    ours, theirs = twin(cell, V=vocab, D=6, H=5, L=1)
    rng = np.random.default_rng(2)
    inputs, targets = rng.integers(0, vocab, (3, 8)), rng.integers(0, vocab, (3, 8))
    inputs[0, :3] = 0  # repeated tokens: their gradients must add up
    loss = ours.forward(inputs, targets).loss
    ours.backward()
    logits = theirs(torch.from_numpy(inputs))
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(targets).reshape(-1))
    ref.backward()
    assert loss == pytest.approx(ref.item(), abs=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.grads[name], p.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "adam"])
def test_optimizer_steps_agree_with_pytorch(name):
    rng = np.random.default_rng(1)
    params = rng.standard_normal(50)
    reference = torch.nn.Parameter(torch.from_numpy(params.copy()))
    ours = make_optimizer(name, params, lr=0.05, momentum=0.9)
    theirs = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.05),
        "adam": lambda p: torch.optim.Adam(p, lr=0.05),
    }[name]([reference])
    for _ in range(5):
        grad = rng.standard_normal(50)
        ours.step(grad)
        reference.grad = torch.from_numpy(grad.copy())
        theirs.step()
    np.testing.assert_allclose(params, reference.detach().numpy(), rtol=0, atol=1e-12)
