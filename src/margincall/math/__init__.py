"""The math layer: pure functions over values and resolved tier tables.

No I/O, no pluggy, no ledger, no policy: every function here takes numbers (Decimal), value
types (:class:`~margincall.market.Market`, :class:`~margincall.math.tiers.Tier`) and returns
numbers. The typed front (:class:`margincall.Policy`) resolves a venue's hooks and calls these;
the engine changes state through the ledger and calls the front. Imports go one way:
``math`` ← ``policy`` ← ``engine`` (``tests/test_layers.py`` checks it).

Modules:

* :mod:`~margincall.math.tiers`: tier tables, bracket lookup, the maintenance-amount
  recursion, and :class:`~margincall.math.tiers.Table`, a table resolved once for fast solving;
* :mod:`~margincall.math.pricing`: liquidation and bankruptcy prices, exactly;
* :mod:`~margincall.math.position`: exposure, value and PnL (linear and inverse), leverage;
* :mod:`~margincall.math.health`: a pool's health;
* :mod:`~margincall.math.rounding`: lots and ticks;
* :mod:`~margincall.math.fund`: the insurance fund's capacity and history;
* :mod:`~margincall.math.adl`: ADL ranking terms;
* :mod:`~margincall.math.batch`: the same figures vectorised over columns (NumPy, the
  ``batch`` extra; imported only by the batch front, :mod:`margincall.arrays`).
"""
