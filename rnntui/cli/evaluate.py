"""`rnntui eval`: a checkpoint's loss over a text read as one sequence, or over its own validation split."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.common import app
from rnntui.cli.progress import working


@app.command("eval")
def evaluate(
    checkpoint: Path = typer.Option(..., help="The model to score."),
    text: Optional[Path] = typer.Option(None, help="A UTF-8 text file to score. Without --text or --corpus: the "
                                        "checkpoint's whole validation split, as training reported it at its end."),
    corpus: Optional[str] = typer.Option(None, help="A named corpus (or path) to score."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    grads: Optional[Path] = typer.Option(None, help="Also write dLoss/dtensor for every model tensor to this .safetensors file."),
) -> None:
    """Mean loss (nats and bits per character) from a zero state, in the checkpoint's dtype."""
    from rnntui.data.corpus import corpus_file, load_corpus, read_text_file
    from rnntui.errors import RnntuiError
    from rnntui.files import output_target, write_atomically
    from rnntui.train.evaluate import text_gradient, text_loss
    from rnntui.train.model_file import load_model

    if text is not None and corpus is not None:
        raise RnntuiError("give at most one of --text FILE or --corpus NAME (neither: the validation split)")
    if text is None and corpus is None:
        if grads is not None:
            raise RnntuiError("--grads needs the text to differentiate: give --text FILE or --corpus NAME")
        loss, predictions, model = _validation_split(checkpoint)
        _report(loss, predictions, str(model.dtype), as_json)
        return
    if grads is not None:  # before any work: never the model itself, nor the text, nor a device
        output_target(grads, inputs={"--checkpoint": checkpoint, "--text": text, "--corpus": corpus_file(corpus)})
    body = read_text_file(text) if text is not None else load_corpus(corpus).text
    if len(body) < 2:
        raise RnntuiError("the text needs at least two characters: one to read, one to predict")
    model, vocab = load_model(checkpoint)
    ids = vocab.encode(body)
    with working("scoring", total=len(ids) - 1, quiet=quiet) as update:
        loss, predictions = text_loss(model, ids, progress=update)
    if grads is not None:
        from safetensors.numpy import save

        write_atomically(grads, save(text_gradient(model, ids)))
    _report(loss, predictions, str(model.dtype), as_json)


def _validation_split(checkpoint: Path):
    """(loss, predictions, model) over the checkpoint's whole validation split, its corpus cut as its run cut it."""
    from rnntui.data.corpus import load_corpus
    from rnntui.errors import RnntuiError
    from rnntui.train.checkpoint import load_checkpoint
    from rnntui.train.config import TrainConfig
    from rnntui.train.evaluate import validation_loss
    from rnntui.train.model_file import load_model
    from rnntui.train.trainer import text_digest

    model, vocab = load_model(checkpoint)
    ckpt = load_checkpoint(checkpoint)
    config = TrainConfig.from_json(ckpt.config)
    text = load_corpus(config.corpus).text
    saved = (ckpt.train_state or {}).get("corpus_sha256")
    if saved is not None and saved != text_digest(text):
        raise RnntuiError(f"corpus {config.corpus!r} has changed since {checkpoint} was saved; its validation split is gone")
    workers = (ckpt.train_state or {}).get("workers") or 1
    loss, predictions = validation_loss(model, vocab, text, config, workers)
    if predictions == 0:
        raise RnntuiError(f"{checkpoint} was trained with --val-frac {config.val_frac}: it kept no validation text")
    return loss, predictions, model


def _report(loss: float, predictions: int, dtype: str, as_json: bool) -> None:
    result = {"loss_nats": loss, "bits_per_char": loss / math.log(2), "predictions": predictions, "dtype": dtype}
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"{loss:.6f} nats, {result['bits_per_char']:.6f} bits per character over {predictions:,} predictions ({dtype})")
