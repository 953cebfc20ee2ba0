"""The one exception type the CLI turns into a one-line error and a non-zero exit."""


class NasReproError(Exception):
    """A user-facing error: what was wrong and, where there is a fixed set, the valid choices.

    The message must fit on one line; the CLI prints ``error: <message>`` and exits with 2.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def choices_error(kind: str, given: object, valid: list[str] | tuple[str, ...]) -> NasReproError:
    """``unknown <kind> 'x'; valid: a, b, c`` for a name outside a fixed set."""
    return NasReproError(f"unknown {kind} {given!r}; valid: {', '.join(sorted(map(str, valid)))}")
