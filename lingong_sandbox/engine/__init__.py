"""The sandbox's business engine: the platform's rules and state (see :class:`Platform`).

One module per concern: :mod:`.codes` (the 4xxx table), :mod:`.identity` and :mod:`.bins` (personal
data and cards), :mod:`.registry` (the freelancer and card tables and their lookups), :mod:`.freelancer`
(its handlers), :mod:`.contract`, :mod:`.account`, :mod:`.ledger` (the only place money moves),
:mod:`.recharge`, :mod:`.fees`; settlement in five: :mod:`.settlement_orders` (its tables, states and
views), :mod:`.settlement_rules` (the per-order rules), :mod:`.settlement` (the write handlers),
:mod:`.settlement_queries` and :mod:`.settlement_processing` (the background); :mod:`.refund`,
:mod:`.invoice`, :mod:`.project`, :mod:`.withdrawal`, :mod:`.marketing`, :mod:`.enterprise`
(enterprise info, tax certificates), :mod:`.jobs` (background transitions and outcomes) and
:mod:`.audit`. A module imports only modules below it: tables and lookups that two concerns share live
in a module both import, never in either.
"""

from __future__ import annotations

from .codes import CODES, Code
from .platform import Platform

__all__ = ["CODES", "Code", "Platform"]
