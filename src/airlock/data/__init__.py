"""The data scan (`airlock data`): vet a fine-tuning dataset before it trains anything.

`pipeline.vet` is the entry point; `checks.DATA_CHECKS` lists the check families (poisoning, label
consistency, contamination, target leakage, privacy) and the rules each owns; `loading` reads the
supported layouts without executing them; `features` builds the feature space.
"""
