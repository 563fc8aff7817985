"""Ranking: the SVM that scores pieces by how much they look like the real music, the degenerate rolls it
must rank last, and the seed's pipeline (generate candidates, rank them, keep the best)."""
