"""Benchmarks (`make bench`): speed side by side with peers and with the hashing floor; never run as tests."""
