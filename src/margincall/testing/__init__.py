"""Testing support for margincall and for code built on it.

:mod:`margincall.testing.strategies` holds Hypothesis strategies for exact decimals, tier
tables, markets, positions and accounts with marks. It needs ``hypothesis`` (the ``test``
extra) and is not imported here, so ``import margincall.testing`` stays free of test
dependencies.
"""
