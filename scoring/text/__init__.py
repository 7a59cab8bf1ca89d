"""Text analysis of personalised requirements and feedback comments (zh, en and mixed).

Tokenisation (`Tokenizer`, jieba with an IT-service domain dictionary and concept synonyms),
unsupervised themes (near-duplicates folded, clustered within strata, labelled by class-based
TF-IDF) that remember the user's names, merges and splits (`discover_themes`, `ThemeDecisions`),
supervised classification of categories or sentiment (`train_classifier`, evaluated on distinct
labels by `evaluate_classifier`; `rating_sentiment` turns a rating into a sentiment label),
common needs across customers and regions (`common_needs`) and emerging needs between periods
(`emerging_needs`). Pure: no Flask, SQLAlchemy or `perception` imports. scikit-learn and SciPy
are imported inside the functions that fit or test, so importing this package loads NumPy only.
"""

from scoring.text.classify import (
    ClassReport,
    CVReport,
    Evaluation,
    ReviewItem,
    TextClassifier,
    cross_validated_accuracy,
    evaluate_classifier,
    rating_sentiment,
    train_classifier,
)
from scoring.text.decisions import ThemeDecisions, ThemeMerge, ThemeOperation, ThemeSplit
from scoring.text.messages import Message, common_need_message, emerging_need_message, review_message
from scoring.text.needs import (
    CommonNeed,
    GrowthMethod,
    ThemeGrowth,
    benjamini_hochberg,
    common_needs,
    emerging_needs,
    growth_p_value,
    theme_growth,
)
from scoring.text.themes import EntryId, Theme, ThemeAssignment, ThemeModel, discover_themes
from scoring.text.tokenizer import (
    Tokenizer,
    default_domain_words,
    default_stopwords,
    default_synonyms,
    light_stem,
    normalise_text,
    theme_stopwords,
)

__all__ = [
    "CVReport",
    "ClassReport",
    "CommonNeed",
    "EntryId",
    "Evaluation",
    "GrowthMethod",
    "Message",
    "ReviewItem",
    "TextClassifier",
    "Theme",
    "ThemeAssignment",
    "ThemeDecisions",
    "ThemeGrowth",
    "ThemeMerge",
    "ThemeModel",
    "ThemeOperation",
    "ThemeSplit",
    "Tokenizer",
    "benjamini_hochberg",
    "common_need_message",
    "common_needs",
    "cross_validated_accuracy",
    "default_domain_words",
    "default_stopwords",
    "default_synonyms",
    "discover_themes",
    "emerging_need_message",
    "emerging_needs",
    "evaluate_classifier",
    "growth_p_value",
    "light_stem",
    "normalise_text",
    "rating_sentiment",
    "review_message",
    "theme_growth",
    "theme_stopwords",
    "train_classifier",
]
