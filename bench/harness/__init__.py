"""The one bench harness: what every benchmark scenario composes.

- `processes`: the fork server, worker processes, child processes, stopping them
- `machine`: CPU metering, "machine busy (other work)", the machine-speed loop
- `servers`: gunicorn, the webhook stub; `simulator`: the Twilio simulator (its only import)
- `load`: the closed-loop HTTP load generator; `timing`: percentiles and the progress log
- `app`: the app's configuration and environment; `database`, `fixtures`, `statistics`:
  databases, shared rows, autovacuum's stand-in
- `tables`: the result table; `cli`: the arguments every benchmark shares
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
