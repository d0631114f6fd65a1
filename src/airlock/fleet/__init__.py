"""Fleet scans: the same scan over many models, on a local process pool or a Ray cluster.

`refs` turns the command line into references, `jobs` scans one (the normal pipeline, with
header-first `triage` in front for Hub models), `executors` run jobs, `runner` is the head that
records outcomes in the results `store`, and `report` renders the fleet report from the store.
"""
