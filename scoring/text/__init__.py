"""Text analysis of personalised requirements and feedback comments (zh, en and mixed).

Tokenisation (`Tokenizer`, jieba with an IT-service domain dictionary), unsupervised themes that
remember the user's names, merges and splits (`discover_themes`, `ThemeDecisions`), supervised
classification of categories or sentiment (`train_classifier`, `cross_validated_accuracy`),
common needs across customers and regions (`common_needs`) and emerging needs between periods
(`emerging_needs`). Pure: no Flask, SQLAlchemy or `perception` imports. scikit-learn and SciPy
are imported inside the functions that fit or test, so importing this package loads NumPy only.
"""

from scoring.text.classify import (
    ClassReport,
    CVReport,
    ReviewItem,
    TextClassifier,
    cross_validated_accuracy,
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
)

__all__ = [
    "CVReport",
    "ClassReport",
    "CommonNeed",
    "EntryId",
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
    "growth_p_value",
    "light_stem",
    "normalise_text",
    "review_message",
    "theme_growth",
    "train_classifier",
]
