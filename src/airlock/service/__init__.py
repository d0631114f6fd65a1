"""`airlock serve`: the admission service (HTTP API and Kubernetes webhook) over the signed allowlist.

Requests are answered from the verified allowlist held in memory; models it has not seen are scanned
by background workers, never while a caller waits. Imports the engine, never the CLI.
"""
