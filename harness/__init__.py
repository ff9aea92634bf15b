"""What the tests (``tests/``) and the benchmarks (``bench/``) share to run Taptrail for
real: free ports and server processes (:mod:`harness.servers`), private PostgreSQL and Redis
instances that may be stopped and cut (:mod:`harness.services`), and a running town with
the totals the pure engine expects of it (:mod:`harness.fault_town`).

Neither ``tests/`` nor ``bench/`` is imported from here; both import this package. It is not
part of the application and is not installed with it.
"""
