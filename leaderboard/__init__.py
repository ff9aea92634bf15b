"""Leaderboards: ranked boards per game (in memory or Redis) and their live fan-out.

Independent of the database: callers hand in absolute snapshots or score deltas.
"""
