"""Throwaway resources on the machine's real services, for test runs and benchmark runs alike:
a free local port, a PostgreSQL database, a RabbitMQ vhost. Each is named by the caller and removed by it."""

from __future__ import annotations

import socket
import subprocess

ADMIN_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class ProvisioningError(RuntimeError):
    """A database or vhost could not be created or removed; the message carries the service's reason."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    """Drop the database, ending any session still connected to it."""
    import psycopg

    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _rabbitmqctl(*args: str) -> None:
    completed = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60, check=False)
    if completed.returncode != 0:
        reason = completed.stderr.decode(errors="replace").strip()
        raise ProvisioningError(f"rabbitmqctl {' '.join(args)} failed: {reason}")


def create_vhost(name: str) -> None:
    """A vhost the default guest user may configure, write and read."""
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


def delete_vhost(name: str) -> None:
    _rabbitmqctl("delete_vhost", name)
