"""The model catalogue: every provider's models, ranked per category, in memory.

* :mod:`~freeway.catalogue.catalogue` — :class:`Catalogue`, the snapshot requests read.
* :mod:`~freeway.catalogue.rankers` — the :class:`Ranker` protocol and the built-ins.
* :mod:`~freeway.catalogue.refresh` — the ``refresh-models`` job.
* :mod:`~freeway.catalogue.selection` — admin selection per category.
"""

from __future__ import annotations

from freeway.catalogue.catalogue import Catalogue, ModelOut, Selection, model_out
from freeway.catalogue.rankers import Ranker, builtin_rankers, collect_rankers

__all__ = [
    "Catalogue",
    "ModelOut",
    "Ranker",
    "Selection",
    "builtin_rankers",
    "collect_rankers",
    "model_out",
]
