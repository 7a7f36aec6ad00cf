"""Whether the UI's port is free, and if not, who holds it.

Checked before anything starts: an api-server that cannot bind exits after the others have
started, and a health check on the port would meanwhile be answered by whatever holds it, so
the user would be shown the URL and login of a UI that is not this one.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

LISTEN = "0A"  # TCP state in /proc/net/tcp


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on ``port`` (any address, IPv4 or IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == LISTEN:
                inodes.add(fields[9])
    return inodes


def holders(port: int) -> dict[int, str]:
    """PID -> command line of the processes listening on ``port``, as far as /proc lets this
    user see (another user's processes are not listed)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not (entry.name.isdigit() and wanted):
            continue
        try:
            links = {str(fd.readlink()) for fd in Path(entry.path, "fd").iterdir()}
            if links & wanted:
                command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found[int(entry.name)] = command.strip()[:200]
        except OSError:  # not ours to read, or gone meanwhile
            continue
    return found


def in_use(host: str, port: int) -> bool:
    """True if something listens where the UI would (a socket in TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def next_free(host: str, port: int) -> int:
    """The first port after ``port`` that nothing listens on."""
    candidate = port + 1
    while candidate < 65535 and in_use(host, candidate):
        candidate += 1
    return candidate


def busy_message(host: str, port: int) -> str | None:
    """Why the UI cannot start on ``host:port`` and what to do instead; None if it can."""
    if not in_use(host, port):
        return None
    found = holders(port)
    if found:
        who = "\n".join(f"  PID {pid}: {command}" for pid, command in sorted(found.items()))
    else:
        who = "  (its PID cannot be read here: a process of another user, or of another container)"
    return (
        f"error: port {port} is in use by another program, so this Airflow's UI cannot listen on "
        f"{host}:{port}:\n{who}\nStop that program, or use another port: PORT={next_free(host, port)} make airflow"
    )
