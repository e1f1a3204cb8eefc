"""Free TCP ports, for tooling/port_free.py and the benchmark (stdlib only)."""

import socket


def is_free(port):
    """True when ``port`` can be bound on 127.0.0.1 and on 0.0.0.0."""
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # Like Odoo's server: a port in TIME_WAIT is free, a listening one is not.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port(preferred=None):
    """``preferred`` when it is free, else a port the system picks."""
    if preferred and is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
