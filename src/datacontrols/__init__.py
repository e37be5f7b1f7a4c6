"""openai-datacontrols: keep an OpenAI organization's data controls equal to what git declares."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("openai-datacontrols")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
