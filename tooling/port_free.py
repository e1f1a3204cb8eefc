"""Exit 0 when TCP port argv[1] can be bound on 127.0.0.1 and 0.0.0.0."""

import sys

from bench.ports import is_free

if __name__ == "__main__":
    sys.exit(0 if is_free(int(sys.argv[1])) else 1)
