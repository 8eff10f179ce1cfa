"""The lessons in the terminal: a list of lessons, and one screen a lesson (`rnntui learn`)."""
