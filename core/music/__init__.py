"""Music as arrays, pure numpy: the piano-roll codec, theory helpers (pitch names, keys), the SVM's features,
evaluation metrics and the training loop's quality measures."""
