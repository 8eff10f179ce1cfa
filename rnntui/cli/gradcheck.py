"""`rnntui gradcheck`: analytic against numerical gradients, the engine's own proof."""

from __future__ import annotations

import typer

from rnntui.cli.common import app

TOLERANCE = 1e-6


@app.command()
def gradcheck(
    cell: str = typer.Option("all", help="rnn, lstm, gru or all."),
    layers: int = typer.Option(2, min=1, max=8, help="Stacked layers in the test model."),
    seed: int = typer.Option(0, min=0),
) -> None:
    """Compare backprop with centred differences in float64 (carried state and mask included)."""
    from rich.console import Console
    from rich.table import Table

    from rnntui.engine.gradcheck import check_gradients, random_problem
    from rnntui.engine.shape import CELLS
    from rnntui.cli.common import error_line

    if cell != "all" and cell not in CELLS:
        error_line(f"--cell must be one of {', '.join(CELLS)} or all")
        raise typer.Exit(2)
    table = Table("cell", "tensor", "worst relative error", "")
    worst = 0.0
    for name in CELLS if cell == "all" else (cell,):
        model, batch = random_problem(name, layers, seed=seed)
        for tensor, error in check_gradients(model, batch).items():
            worst = max(worst, error)
            table.add_row(name, tensor, f"{error:.2e}", "ok" if error < TOLERANCE else "[red]FAIL[/]")
    Console().print(table)
    if worst >= TOLERANCE:
        error_line(f"gradient check failed: worst relative error {worst:.2e} is above {TOLERANCE:g}")
        raise typer.Exit(1)
    typer.echo(f"all gradients agree: worst relative error {worst:.2e} < {TOLERANCE:g}")
