"""The math layer: pure functions over values and resolved tier tables.

No I/O, no pluggy, no ledger, no policy: every function here takes numbers (Decimal), value
types (:class:`~margincall.market.Market`, :class:`~margincall.math.tiers.Tier`) and returns
numbers. The typed front (:class:`margincall.Policy`) resolves a venue's hooks and calls these;
the engine changes state through the ledger and calls the front. Imports go one way:
``math`` ← ``policy`` ← ``engine`` (``tests/test_layers.py`` checks it).

Modules:

* :mod:`~margincall.math.tiers`: tier tables, bracket lookup, the maintenance-amount
  recursion, and :class:`~margincall.math.tiers.Table`, a table resolved once for fast solving;
* :mod:`~margincall.math.pricing`: liquidation and bankruptcy prices, exactly.
"""
