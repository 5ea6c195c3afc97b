"""The API side of an operation before a job exists: validation, the install plan, preview, submission."""
