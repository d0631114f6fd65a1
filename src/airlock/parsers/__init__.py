"""Bounded byte readers (airlock.parsers): bytes in, facts out.

Each module reads one format (pickle opcodes, zip directories and members, nested containers,
protobuf wire format, .npy headers, GGUF headers, HDF5 attributes, format sniffing) and reports
what the bytes say: no findings, no rule ids. The scanner plug-ins map those facts to rules.

All readers share one set of bounds (`limits.Limits`, spent through `limits.Budget`) and one pair
of errors (`errors.ParseError`, `errors.LimitExceeded`). Imports run one way: parsers ← scanners ←
engine; nothing here imports airlock.scanners or the engine (tests/unit/test_layering.py).
"""
