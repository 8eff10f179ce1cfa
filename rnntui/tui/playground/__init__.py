"""The playground: its panes, dialogs and the views fed by the run it trains."""
