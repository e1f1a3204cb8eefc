"""Exit 0 when TCP port argv[1] can be bound on 127.0.0.1 and 0.0.0.0."""

import socket
import sys


def free(port):
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # Like Odoo's server: a port in TIME_WAIT is free, a listening one is not.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


if __name__ == "__main__":
    sys.exit(0 if free(int(sys.argv[1])) else 1)
