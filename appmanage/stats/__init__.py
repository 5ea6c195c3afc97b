"""Resource stats: one sampler per Docker host (in its watcher) reads every container at once,
publishes each sample to Redis while someone listens, and keeps one-minute averages per app."""
