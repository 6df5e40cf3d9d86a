import os
import sys

try:
    from harness.cli import main
except KeyboardInterrupt:  # interrupted while starting: nothing was written yet
    print("skill-harness: interrupted", file=sys.stderr)
    os._exit(130)

raise SystemExit(main())
