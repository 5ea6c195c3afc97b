"""Schedules: jobs run on a cron schedule, by RQ's own scheduler. The `schedules` table is
the truth (`storage/models.py` Schedule); each schedule's next tick is an RQ job in its
host queue's ScheduledJobRegistry, armed again from the table whenever a worker starts or
runs its maintenance (`arming.py`). A tick runs on a worker (`tick.py`): it is taken once,
writes an ordinary Job row, and arms the next one. Worker-safe: nothing here imports the
API side; the API's part (making and removing schedules) is `apps/schedules.py`."""
