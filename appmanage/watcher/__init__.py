"""The watcher process (`appmanage watch`): follows Docker's events and announces each app
status change (main.py), runs the job recovery passes, and after a restart starts again the
apps that should run (resume.py)."""
