"""Widgets and drawing helpers shared by more than one screen."""
