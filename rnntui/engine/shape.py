"""The shape of a model: which cell, how big, and the tensors that follow from it.

The tensor names and layouts are PyTorch's (see the model contract), so a
parameter dictionary here is a state dict there.
"""

from __future__ import annotations

from dataclasses import dataclass

CELLS = ("rnn", "lstm", "gru")

# Gates stacked in weight_ih / weight_hh, in PyTorch's order.
GATE_NAMES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def gate_count(cell: str) -> int:
    return len(GATE_NAMES[cell])


@dataclass(frozen=True)
class ModelShape:
    cell: str
    vocab_size: int
    embedding_dim: int
    hidden_size: int
    num_layers: int

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}: choose one of {', '.join(CELLS)}")
        for field in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be at least 1, got {getattr(self, field)}")

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every model tensor's name and shape, in a fixed order."""
        V, D, H = self.vocab_size, self.embedding_dim, self.hidden_size
        GH = gate_count(self.cell) * H
        shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (V, D)}
        for k in range(self.num_layers):
            shapes[f"rnn.weight_ih_l{k}"] = (GH, D if k == 0 else H)
            shapes[f"rnn.weight_hh_l{k}"] = (GH, H)
            shapes[f"rnn.bias_ih_l{k}"] = (GH,)
            shapes[f"rnn.bias_hh_l{k}"] = (GH,)
        shapes["head.weight"] = (V, H)
        shapes["head.bias"] = (V,)
        return shapes

    def param_count(self) -> int:
        total = 0
        for shape in self.param_shapes().values():
            n = 1
            for d in shape:
                n *= d
            total += n
        return total

    def training_bytes(self, batch: int, steps: int, itemsize: int = 4) -> int:
        """About the memory training takes: the parameters five times over (weights, gradient, two
        optimizer slots, scratch) and, kept for backprop, every position's gates, states and logits."""
        per_position = self.num_layers * (gate_count(self.cell) + 3) * self.hidden_size
        per_position += 3 * self.vocab_size + self.embedding_dim
        return itemsize * (5 * self.param_count() + batch * max(steps, 1) * per_position)


def physical_memory() -> int | None:
    """The machine's RAM in bytes, where the platform says."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def require_memory(needed: int, what: str) -> None:
    """Refuse, before allocating anything, work that cannot fit in the machine's memory at all."""
    total = physical_memory()
    if total and needed > total:
        raise MemoryError(f"{what} needs about {_bytes(needed)}; this machine has {_bytes(total)}")


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
