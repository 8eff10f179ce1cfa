"""Bundled corpora, shipped inside the package as rnntui.corpora (see pyproject.toml)."""
