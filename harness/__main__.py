import os
import sys

try:
    from harness.commands.cli import main
except KeyboardInterrupt:  # interrupted while starting: nothing was written yet
    print("skill-harness: interrupted", file=sys.stderr)
    os._exit(130)

try:
    code = main()
except KeyboardInterrupt:  # a signal in the instant between the command's end and ignoring signals
    print("skill-harness: interrupted", file=sys.stderr)
    os._exit(130)
raise SystemExit(code)
