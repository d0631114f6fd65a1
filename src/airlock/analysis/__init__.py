"""Analysis shared by plug-ins and commands.

Numerical (`activation_clustering`, `neighbours`, `robust`; for the data scan `airlock data` and the
behavioural scan): pure numpy / scikit-learn on feature matrices, no I/O, no models, no printing.
Inputs are `float32` arrays of shape (samples, features); every function is deterministic for a
given seed. Static (`pycode`): Python source read as a syntax tree, never run, for the custom_code
and pickle_opcodes plug-ins.
"""
