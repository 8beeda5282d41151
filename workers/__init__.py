"""RQ jobs and the worker process. Jobs are thin: open a unit of work, call a service."""
