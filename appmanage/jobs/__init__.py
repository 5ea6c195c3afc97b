"""Long operations as RQ jobs: submitting them, running them, their rows and logs."""
