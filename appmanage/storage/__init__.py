"""What must survive: apps, jobs and job logs, in SQLite (default) or PostgreSQL."""
