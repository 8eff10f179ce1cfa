"""The memory lab screen and its panes."""
