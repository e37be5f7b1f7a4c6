"""What the CLI's commands do, apart from how their options are declared (`datacontrols.cli`).

- `plan_apply`: `reconcile` and `reconcile --dry-run`.
- `terminal`: what those commands print, and the confirmation prompt.
- `emulator`: the signature of `reconcile emulator`. The main CLI registers it at import time, so it lives
  here apart from what it runs, and imports the emulator inside the command: planning never loads a web
  server or the emulator.
"""
