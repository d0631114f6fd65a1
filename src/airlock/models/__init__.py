"""Loading models for analysis without running code that ships with them.

`airlock.models.classifier.load_classifier` is the one loader, for `airlock scan --behavior` and
`airlock data --model` alike: a stock `transformers` image or text classifier built from
`config.json` (or the user's own `--arch module:factory`), with weights read from safetensors, or
from a pickle checkpoint with `weights_only=True` once the static scan passed it. Configurations
that ask for remote code (`auto_map`) are refused. `transformers` is optional:
`pip install 'model-airlock[behavior]'`. This package imports nothing from the commands, scans or
checks that use it (`airlock.data`, `airlock.behavior`, `airlock.pipeline`, `airlock.cli`).
"""
