"""Who may call the API: bearer tokens with a role, checked once per HTTP request and once
per websocket (at `connection_init`), and the permission each GraphQL field asks for."""
