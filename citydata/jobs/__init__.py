"""Background work: the worker command, the scheduler of periodic jobs, and the platform's own housekeeping jobs."""
