"""The signatures of the commands that need heavy modules (the emulator's web server, the daemon).

The main CLI registers them at import time, so they live here, apart from what they run: each imports its
implementation inside the command, when that command is the one being run. Planning never loads a web
server or the emulator.
"""
