"""`rnntui eval`: a checkpoint's loss over a text, read as one sequence."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.common import app


@app.command("eval")
def evaluate(
    checkpoint: Path = typer.Option(..., help="The model to score."),
    text: Optional[Path] = typer.Option(None, help="A UTF-8 text file to score."),
    corpus: Optional[str] = typer.Option(None, help="A named corpus (or path) to score."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    grads: Optional[Path] = typer.Option(None, help="Also write dLoss/dtensor for every model tensor to this .safetensors file."),
) -> None:
    """Mean loss (nats and bits per character) from a zero state, in the checkpoint's dtype."""
    from rnntui.data.corpus import corpus_file, load_corpus, read_text_file
    from rnntui.errors import RnntuiError
    from rnntui.files import output_target, write_atomically
    from rnntui.train.evaluate import text_gradient, text_loss
    from rnntui.train.model_file import load_model

    if (text is None) == (corpus is None):
        raise RnntuiError("give exactly one of --text FILE or --corpus NAME")
    if grads is not None:  # before any work: never the model itself, nor the text, nor a device
        output_target(grads, inputs={"--checkpoint": checkpoint, "--text": text, "--corpus": corpus_file(corpus)})
    body = read_text_file(text) if text is not None else load_corpus(corpus).text
    if len(body) < 2:
        raise RnntuiError("the text needs at least two characters: one to read, one to predict")
    model, vocab = load_model(checkpoint)
    ids = vocab.encode(body)
    loss, predictions = text_loss(model, ids)
    if grads is not None:
        from safetensors.numpy import save

        write_atomically(grads, save({k: v.copy() for k, v in text_gradient(model, ids).items()}))
    result = {
        "loss_nats": loss,
        "bits_per_char": loss / math.log(2),
        "predictions": predictions,
        "dtype": str(model.dtype),
    }
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"{loss:.6f} nats, {result['bits_per_char']:.6f} bits per character over {predictions:,} predictions ({model.dtype})")
