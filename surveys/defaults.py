"""Defaults that belong to a question type: fixed scale ranges, end-point anchors, standard labels.

The loader fills them in when a definition leaves them out, and the dumper leaves them out
again, so a definition stays short and its fingerprint does not change when it is re-saved.
"""

from __future__ import annotations

from surveys.model import QuestionType, Scale, ServqualPart
from surveys.text import Text

DISSATISFIED = Text(zh="非常不满意", en="Very dissatisfied")
SATISFIED = Text(zh="非常满意", en="Very satisfied")
DISAGREE = Text(zh="非常不同意", en="Strongly disagree")
AGREE = Text(zh="非常同意", en="Strongly agree")

#: CSAT 1-5 (share of 4-5), NPS 0-10 (Reichheld 2003), CES 1-7 agreement with "made it easy"
#: (CEB/Gartner CES 2.0), SERVQUAL 1-7 agreement (Parasuraman, Zeithaml & Berry 1988).
DEFAULT_SCALES: dict[QuestionType, Scale] = {
    QuestionType.CSAT: Scale(1, 5, DISSATISFIED, SATISFIED),
    QuestionType.NPS: Scale(
        0, 10, Text(zh="完全不可能", en="Not at all likely"), Text(zh="极有可能", en="Extremely likely")
    ),
    QuestionType.CES: Scale(1, 7, DISAGREE, AGREE),
    QuestionType.SERVQUAL: Scale(1, 7, DISAGREE, AGREE),
}

#: Types whose range is part of the measure's definition and may not change.
FIXED_RANGES: dict[QuestionType, tuple[int, int]] = {
    QuestionType.CSAT: (1, 5),
    QuestionType.NPS: (0, 10),
    QuestionType.CES: (1, 7),
}

MAX_SCALE_POINTS = 11

OTHER_LABEL = Text(zh="其他（请注明）", en="Other (please specify)")
OTHER_TEXT_LABEL = Text(zh="请注明“其他”的具体内容", en="Please specify “other”")
OTHER_TEXT_MAX_LENGTH = 500
TEXT_MAX_LENGTH = 4000

SERVQUAL_PART_LABELS: dict[ServqualPart, Text] = {
    ServqualPart.EXPECTATION: Text(
        zh="期望：一家优秀的 IT 服务商应当做到的程度",
        en="Expectation: how far an excellent IT service provider should do this",
    ),
    ServqualPart.PERCEPTION: Text(
        zh="感受：我们实际做到的程度",
        en="Perception: how far we actually do this",
    ),
}

#: A constant-sum question shares 100 points unless it says otherwise (the 1988 SERVQUAL allocation).
CONSTANT_SUM_TOTAL = 100
POINTS_UNIT = Text(zh="分", en="points")
SUM_LABEL = Text(zh="合计", en="Total")

REQUIRED_MARK = Text(zh="（必答）", en="(required)")
