"""Loading models for analysis without running code that ships with them.

Only stock `transformers` architectures are built, from `config.json`, with weights read from
safetensors (or from a pickle checkpoint with `weights_only=True`, once the static scan passed it).
Configurations that ask for remote code (`auto_map`) are refused. `transformers` is optional:
`pip install 'model-airlock[behavior]'`. Used by `airlock data --model` for features, and meant to
be extended by the behavioural scan (more model kinds, `--arch module:factory`).
"""
