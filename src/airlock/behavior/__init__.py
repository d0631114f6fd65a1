"""The behavioural backdoor scan (`airlock scan --behavior`): probing a classifier for planted triggers.

Trigger reversal (image: patch, additive and warp families; text: token search) with a batched
K-Arm engine and a calibrated, scale-free outlier test; a data-free mode that synthesises inputs
from the model; and activation clustering of a supplied sample. Importing this package imports
nothing heavy: torch is loaded by the modules that need it, only when the scan runs.
"""
