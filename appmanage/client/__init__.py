"""`appmanage` commands that are clients of a running AppManage's GraphQL API.

transport.py talks GraphQL (HTTP, and graphql-transport-ws for `--follow`), documents.py
holds the operations, output.py shapes answers for people (tables) or scripts (`--json`),
progress.py follows a job to its end, and the commands live in reads.py and actions.py,
assembled by commands.py into the table `API_COMMANDS` that names the command behind each
of the API's fields.
"""
