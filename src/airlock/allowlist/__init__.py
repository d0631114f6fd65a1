"""The signed allowlist: model identity, OMS model signatures, the tamper-evident record log.

`signing` puts a vetted model into an allowlist, `verifying` decides whether a model on disk is
admitted. The other modules are the nouns they share: keys, records, the store, the hash cache.
Nothing here prints; `airlock.cli` does.
"""
