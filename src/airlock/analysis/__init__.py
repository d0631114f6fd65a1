"""Numerical analysis shared by the data scan (`airlock data`) and the behavioural scan.

Pure numpy / scikit-learn on feature matrices: no I/O, no models, no printing. Inputs are
`float32` arrays of shape (samples, features); every function is deterministic for a given seed.
"""
