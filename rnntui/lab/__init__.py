"""The memory lab: races between cells on memory tasks, gradient reach and gate saturation.

Pure computations returning arrays and dataclasses, with no UI: `rnntui lab`
prints them, and a TUI screen can call the same functions and plot them.
"""
