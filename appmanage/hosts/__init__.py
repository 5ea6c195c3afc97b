"""The host registry: each agent's Docker host, its facts in Redis and its status.

An agent publishes its host's facts (versions, resources, ports, labels) every few
seconds; `host_status` turns those facts, or their absence, into ONLINE or OFFLINE with
a reason an operator can act on. Durable settings (drain) live in the database.
"""
