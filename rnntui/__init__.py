"""rnntui: a terminal playground for character-level recurrent networks."""

__version__ = "0.1.0"
