"""Market-basket mining: frequent itemsets and association rules with the statistics to trust them.

:mod:`.itemsets` holds the library (fim and mlxtend engines, rules, Fisher tests, redundancy, the explosion
guard); :mod:`.spark_fpgrowth` is its Spark engine beside it. The recommender built on rules is
:mod:`shared.models.association_rules`.
"""
from .itemsets import (
    ENGINES, RULE_COLUMNS, BasketMatrix, Mined, TooManyItemsets, adjust_p, association_rules, baskets_of,
    category_baskets, count_threshold, engine_of, filter_funnel, frequent_itemsets, frequent_pairs,
    itemsets_to_csv_frame, level_lift_matrix, pair_lifts, recover_planted, rules_to_csv_frame, strong_itemsets,
)

__all__ = [
    "ENGINES", "RULE_COLUMNS", "BasketMatrix", "Mined", "TooManyItemsets", "adjust_p", "association_rules",
    "baskets_of", "category_baskets", "count_threshold", "engine_of", "filter_funnel", "frequent_itemsets",
    "frequent_pairs", "itemsets_to_csv_frame", "level_lift_matrix", "pair_lifts", "recover_planted",
    "rules_to_csv_frame", "strong_itemsets",
]
