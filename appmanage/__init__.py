"""AppManage: install and run self-hosted applications on a Docker host."""

__version__ = "0.1.0"
