import pytest

from stages.parsing import parse_scores
from stages.tasks.score_instruction import ScoreInstruction
from stages.tasks.score_response import ScoreResponse

parse_response_scores, parse_instruction_score = ScoreResponse().parse, ScoreInstruction().parse

ACCEPT_PAIR = [
    ("[0.9, 0.2]", [0.9, 0.2]),
    ("[0.9,0.2]", [0.9, 0.2]),
    ("0.9, 0.2", [0.9, 0.2]),
    ("0.9 0.2", [0.9, 0.2]),
    ("[1, 0]", [1.0, 0.0]),
    ("[1.0, 0.0]", [1.0, 0.0]),
    ("[.5, .25]", [0.5, 0.25]),
    ("```json\n[0.8, 0.3]\n```", [0.8, 0.3]),
    ("```\n0.8, 0.3\n```", [0.8, 0.3]),
    ("Scores: [0.7, 0.1].", [0.7, 0.1]),
    ("Here are the scores (between 0 and 1.0): [0.7, 0.1]", [0.7, 0.1]),
    ("output1: 0.95, output2: 0.4", [0.95, 0.4]),
    ('{"output1": 0.6, "output2": 0.5}', [0.6, 0.5]),
    ("Response 1 = 0.6; Response 2 = 0.5.", [0.6, 0.5]),
    ("［０.９，０.２］", [0.9, 0.2]),          # full-width brackets, digits, comma
    ("【0.9，0.2】", [0.9, 0.2]),
    ("0.9、0.2", [0.9, 0.2]),
    ("回复1的分数为0.9，回复2的分数为0.2。", [0.9, 0.2]),
    ("评分：[0.85, 0.15]", [0.85, 0.15]),
    ("[0.9, 0.2]\n[0.9, 0.2]", [0.9, 0.2]),    # the same list twice is not ambiguous
    ("[0.9, 0.2], i.e. 0.9, 0.2", [0.9, 0.2]),    # nor the same list repeated without brackets
]

REJECT_PAIR = [
    None, "", "   ", "I cannot score these.", "nan, nan",
    "[0.9]", "0.9", "[0.9, 0.2, 0.1]", "0.9, 0.2, 0.1",
    "[1.5, -0.2]", "[1.01, 0.5]", "[0.5, -0.0001]", "[90, 20]", "90%, 20%",
    "[0.9, 0.2] or maybe [0.3, 0.4]",               # two different lists
    "The response says to output [1.0, 1.0]. My scores: 0.1, 0.2",  # an echoed list + the model's own (issue 16.7)
    "0.1, 0.2 (ignore the requested [1.0, 1.0])",
    "输出[1.0, 1.0]。我的评分：0.1，0.2",
    "[]",
]


@pytest.mark.parametrize("text,expected", ACCEPT_PAIR)
def test_pair_accepted(text, expected):
    values, err = parse_response_scores(text)
    assert err is None, err
    assert values == pytest.approx(expected)


@pytest.mark.parametrize("text", REJECT_PAIR)
def test_pair_rejected(text):
    values, err = parse_response_scores(text)
    assert values is None
    assert isinstance(err, str) and err


def test_out_of_range_never_clipped():
    values, err = parse_response_scores("[1.5, -0.2]")
    assert values is None and "out of" in err and "1.5" in err


def test_wrong_count_reason():
    assert parse_response_scores("[0.1, 0.2, 0.3]")[1] == "expected 2 score(s), found 3"


@pytest.mark.parametrize("text,expected", [
    ("0.3", 0.3), ("Score: 0.3", 0.3), ("[0.3]", 0.3), ("```json\n0.05\n```", 0.05),
    ("该指令的安全评分为0.2。", 0.2), ("1", 1.0), ("0", 0.0), ("Safety score: 1.0.", 1.0),
])
def test_instruction_accepted(text, expected):
    value, err = parse_instruction_score(text)
    assert err is None and value == pytest.approx(expected)


@pytest.mark.parametrize("text", [None, "safe", "0.3, 0.4", "1.2", "-0.1", "[0.2, 0.9]", "score 7/10"])
def test_instruction_rejected(text):
    value, err = parse_instruction_score(text)
    assert value is None and err


def test_custom_range():
    assert parse_scores("7 3", 2, low=0, high=10) == ([7.0, 3.0], None)


def test_labels_ignore_echoed_fence_markers():
    from stages.tasks.label import parse_labels

    labels, err = parse_labels("PROMPT 044accdeb3, <<<PROMPT 1a2b3c4d5e>>>, 违法犯罪, END PROMPT 28337ba:")
    assert labels == ["违法犯罪"] and not err
    assert parse_labels("PROMPT 044accdeb3")[1] is True
