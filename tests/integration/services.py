"""Throwaway PostgreSQL and Redis servers on free loopback ports, in temporary folders.

Missing binaries are installed with apt-get (apt-get update only if the first
try fails). Anything that cannot be installed or started raises
ServiceUnavailable with the reason; the tests turn that into a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Iterator, List, Optional


class ServiceUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def postgres_bindir() -> Optional[str]:
    """Newest /usr/lib/postgresql/<version>/bin holding initdb, or the folder of initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def _apt_install(packages: List[str]) -> None:
    if os.geteuid() != 0:
        raise ServiceUnavailable(f"{' '.join(packages)} missing and not root: install them (apt-get install -y ...)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    result = subprocess.run(install, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceUnavailable(f"apt-get install {' '.join(packages)} failed:\n{result.stderr[-2000:]}")


def ensure_redis() -> None:
    """redis-server alone (the benchmark's scale-out run needs no PostgreSQL)."""
    if not shutil.which("redis-server"):
        _apt_install(["redis-server"])
    if not shutil.which("redis-server"):
        raise ServiceUnavailable("redis-server still missing after apt-get install")


def ensure_installed() -> None:
    missing = []
    if not (shutil.which("pg_ctlcluster") and postgres_bindir()):
        missing.append("postgresql")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if missing:
        _apt_install(missing)
    if not postgres_bindir() or not shutil.which("redis-server"):
        raise ServiceUnavailable("PostgreSQL or Redis binaries still missing after apt-get install")


def _as_postgres(command: List[str]) -> List[str]:
    """PostgreSQL refuses to run as root: run as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _check(command: List[str], what: str, log: str = "") -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise ServiceUnavailable(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}{_tail(log)}")


@contextlib.contextmanager
def postgres_server(database: str = "rasa") -> Iterator[str]:
    """Yields postgresql://postgres@127.0.0.1:<port>/<database>; the cluster is removed afterwards."""
    bindir = postgres_bindir()
    if not bindir:
        raise ServiceUnavailable("initdb not found")
    root = tempfile.mkdtemp(prefix="it-postgres-")  # under /tmp: readable by the postgres user
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log, port = os.path.join(root, "data"), os.path.join(root, "server.log"), free_port()
    pg_ctl = os.path.join(bindir, "pg_ctl")
    started = False
    try:
        _check(
            _as_postgres(
                [
                    os.path.join(bindir, "initdb"),
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            "initdb",
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        _check(
            _as_postgres([pg_ctl, "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"]), "pg_ctl start", log
        )
        started = True
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database}"')
        connection.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        if started:
            subprocess.run(_as_postgres([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Yields redis://127.0.0.1:<port>/0 of a server without persistence; stopped afterwards."""
    import redis

    executable = shutil.which("redis-server")
    if not executable:
        raise ServiceUnavailable("redis-server not found")
    root = tempfile.mkdtemp(prefix="it-redis-")
    port, log = free_port(), os.path.join(root, "server.log")
    with open(log, "w") as output:
        process = subprocess.Popen(
            [
                executable,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                root,
                "--daemonize",
                "no",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise ServiceUnavailable(f"redis-server exited ({process.returncode}):\n{_tail(log)}")
            try:
                client.ping()
                break
            except redis.ConnectionError as error:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(f"redis-server did not answer on port {port}:\n{_tail(log)}") from error
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
