"""A plugin that raises a BaseException (not an Exception) as soon as it is imported."""


class Hostile(BaseException):
    """Not an Exception: ``except Exception`` does not catch it."""


raise Hostile("no plugins for you")
