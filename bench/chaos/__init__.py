"""Chaos run (issues 7, 13): random operations on a dozen apps while workers, agents, APIs,
Redis and Docker die: on two hosts through two APIs (the default), or on one (`--hosts 1`).

What it does
    With `--hosts 1`: starts a private Redis (keeps nothing on disk), a private dockerd
    (own socket and data root, the `appmanage-local/*` images loaded) and a real AppManage
    stack on them
    (tests/support's Stack: API server, --workers workers, the watcher; own data folder and
    namespace). The shared dockerd and the shared Redis at 127.0.0.1:6379 are never used.

    For --minutes it sends a stream of random mutations over HTTP to --apps apps:
    installApp (catalog app `hello` version 1 or 2 with HTTP_PORT on a free 127.0.0.1
    port, sometimes `duo`), startApp, stopApp, restartApp, redeployApp, updateApp (hello
    1 <-> 2), uninstallApp (sometimes purgeData) and, now and then, cancelJob on a job it
    just got accepted or on an app's active job. Refusals (ConflictError,
    ActionNotAllowedError, ServiceUnavailableError while Docker is down, HTTP errors while
    a process restarts) are expected and counted; only JobAccepted jobs are tracked.

    Meanwhile, every --fault-interval seconds on average, one fault is injected:
      worker  -- SIGKILL a worker (preferably one running a job);
      redis   -- kill the private Redis and start it again, empty, a few seconds later;
      docker  -- stop the private dockerd and start it again a few seconds later;
      api, watcher -- SIGKILL that process (only when named in --faults).
    A supervisor restarts any AppManage process that died within a second, as
    `appmanage run` does.

    Then it waits for quiet (all processes up, no QUEUED or RUNNING job row; at most
    --quiet-timeout seconds) and counts:
      1. jobs lost     -- accepted jobs whose row is gone or not SUCCEEDED/FAILED/CANCELED;
      2. jobs run twice -- jobs whose log holds one of our step lines ("» docker compose
                          up", ...) more than once, i.e. the operation started twice;
      3. apps stuck    -- apps whose API status is INSTALLING, UPDATING, UNINSTALLING,
                          STARTING or STOPPING;
      4. disagreements -- apps whose API status or services disagree with
                          `docker -H <private> ps -a` + inspect (compose labels), recomputed
                          independently from the design's status table; compose projects
                          the API does not know; checked twice 10 s apart, only the ones
                          that persist count.
    All four must be 0: the exit code is 0 then, 1 otherwise. When a count is not 0 the
    data folder's database and logs are copied to an evidence folder, whose path is printed.
    Everything started is removed at the end, also on error or Ctrl-C.

    It ends with one line: `chaos: N jobs, lost L, run twice T, stuck S, disagreeing D`.

Two hosts (`--hosts 2`, the default; bench/chaos/cluster.py; needs PostgreSQL)
    A private Redis, a private dockerd per host (`a`, `b`; the system engine is never
    used), `appmanage agent --host a|b` on each (2 workers each by default), two
    `appmanage serve` APIs and a private PostgreSQL database. Installs name a host at
    random (one in five leaves it to placement); every query and mutation goes through
    one of the two APIs at random. The faults (cluster_faults.py): agent (SIGKILL its
    whole process group; the run starts it again after 3-20 s, so the host goes OFFLINE),
    api (SIGKILL, restarted on its port), docker (one host's dockerd stopped 2-20 s),
    redis, worker (SIGKILL an agent's child; the agent restarts it). While a host is down
    past OFFLINE_AFTER, a probe checks the host reads OFFLINE, its apps UNKNOWN (or busy
    with a waiting job) and the other host's apps not UNKNOWN; misreads are reported.
    Jobs of a down host wait: the counts are taken only after every host is back and
    quiet (--quiet-timeout after the last return is the bound); the checks compare each
    app with the engine of its own host, and flag a project on the wrong engine.

How to run
    .venv/bin/python -m bench.chaos                      # quick: 2 hosts, 1 minute, 6 apps, a fault every 10 s
    .venv/bin/python -m bench.chaos --minutes 3 [--faults agent,api,docker,redis,worker] [--workers 2]
    .venv/bin/python -m bench.chaos --hosts 1 --minutes 10 --apps 12 --fault-interval 20 [--seed N]
        [--workers 3] [--faults worker,redis,docker] [--quiet-timeout 120] [--keep-evidence] [-v]

The package: state.py (what the run shares), operations.py (the mutations), faults.py
(the supervisor and the faults), cluster.py and cluster_faults.py (the two-host setup and
its faults), checks.py (quiet and the four counts), __main__.py.
"""
