"""Organising a game across the domains: loading its game file (with re-scoring), campaigns
that re-score, lucky-tap draws, the help desk, the console's admin and overview queries and
the export of the current game file. Sits above scoring; the domains below never import it."""
