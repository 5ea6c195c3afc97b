"""The worker side of the queue: RQ job functions (one operation per JobKind), the runner,
the Job row's lifecycle, heartbeats and liveness, log masking, and recovery of lost jobs."""
