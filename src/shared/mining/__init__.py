"""Market-basket mining: frequent itemsets and association rules with the statistics to trust them.

:mod:`.itemsets` holds the shared part and the dispatcher (thresholds, the explosion guard, rules, Fisher tests,
redundancy); its engines sit beside it: :mod:`.pandas_engines` (fim and mlxtend) and :mod:`.spark_fpgrowth`.
:mod:`.variants` collapses rules between variants of one product (sizes, flavours) into one line.
:mod:`.substitutes` tells substitutes from complements for merchandisers (basket lift and item text
similarity). The recommender built on rules is :mod:`shared.models.association_rules`.
"""
from .itemsets import (
    ENGINES, RULE_COLUMNS, BasketMatrix, Mined, TooManyItemsets, adjust_p, association_rules, baskets_of,
    category_baskets, count_threshold, engine_of, filter_funnel, frequent_itemsets, frequent_pairs,
    itemsets_to_csv_frame, level_lift_matrix, pair_lifts, recover_planted, rules_to_csv_frame, strong_itemsets,
)
from .substitutes import Associations, substitutes_and_complements
from .variants import collapse_variants, variant_keys, variant_text

__all__ = [
    "Associations", "ENGINES", "RULE_COLUMNS", "BasketMatrix", "Mined", "TooManyItemsets", "adjust_p", "association_rules",
    "baskets_of", "category_baskets", "count_threshold", "engine_of", "filter_funnel", "frequent_itemsets",
    "frequent_pairs", "itemsets_to_csv_frame", "level_lift_matrix", "pair_lifts", "recover_planted",
    "rules_to_csv_frame", "strong_itemsets", "substitutes_and_complements", "collapse_variants", "variant_keys", "variant_text",
]
