"""Who may call the API: bearer tokens with a role, checked on every HTTP request and
before every operation on a websocket, revocations announced to every API process
through Redis, and the permission each GraphQL field asks for."""
