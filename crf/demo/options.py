"""Command-line values shared by `seed_demo` and `demo`: the default cohort and a parser."""

# Big enough to make every report interesting, small enough to seed and score eagerly in
# well under a minute on a laptop.
DEFAULT_PATIENTS = 240
DEFAULT_SITES = 6
DEFAULT_SEED = 1


def positive_number(text: str) -> int:
    """argparse type: an integer of at least 1 (a ValueError is argparse's 'invalid value')."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value
