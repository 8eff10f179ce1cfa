"""Pictures of numbers, with no Textual: the one chart painter (braille lines and scatters as Rich Text) and the colours.

The TUI shows these lines in a thin widget; a headless command can print them
or save them through Rich as they are.
"""
