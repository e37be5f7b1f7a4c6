"""`python -m datacontrols.emulator --port 8089` (admin key from DATACONTROLS_EMULATOR_ADMIN_KEY)."""

from __future__ import annotations

import typer

from datacontrols.commands.emulator import emulator_command


def main() -> None:
    typer.run(emulator_command)


if __name__ == "__main__":
    main()
