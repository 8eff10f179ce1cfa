"""The PyTorch module of the model contract (spec/model.md), for tests that compare with it.

Imported only by tests that have already made sure torch is installed.
"""

import torch


class TorchCharRNN(torch.nn.Module):
    def __init__(self, V, D, H, L, cell):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, D)
        self.rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D, H, L, batch_first=True)
        self.head = torch.nn.Linear(H, V)

    def forward(self, tokens):
        out, _ = self.rnn(self.embedding(tokens))
        return self.head(out)
