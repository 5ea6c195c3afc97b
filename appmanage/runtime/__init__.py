"""The Docker side: the compose CLI, container states, published and listening ports."""
