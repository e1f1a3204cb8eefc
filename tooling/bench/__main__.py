"""Entry point: ``python tooling/bench [options]`` (see __init__.py)."""

import os
import signal
import sys

if not __package__:
    # Run as a folder or a file: import the package from tooling/ instead.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from bench.cli import main  # noqa: E402 (needs the path above)

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
