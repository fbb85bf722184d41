"""Native source records (what stages/formats reads) and the project's own input files, each defined once.
Checked one record at a time (`RECORD.check(rec, path, line)`: InputError naming file, line and field).
Source prompts may be blank here: the loaders skip and count them (`empty_prompt`)."""
from __future__ import annotations

from stages.schemas.fields import Field, Record
from stages.schemas.records import CANDIDATES, LANGS

TEXT, OPT = Field("str"), Field("str|null")
ID = Field("int|str")
OPTIONS = Field("list", items="str")

# ---- source formats (stages/formats)
SAFETY_PROMPTS = Record("safety_prompts", "Safety-Prompts {scenario: [...]}", type=OPT, prompt=TEXT, response=OPT)
SAFETYBENCH_TEST = Record("safetybench_test", "SafetyBench test", id=ID, question=TEXT, category=TEXT,
                          options=OPTIONS)
SAFETYBENCH_DEV = Record("safetybench_dev", "SafetyBench dev {category: [...]}", question=TEXT, options=OPTIONS,
                         answer=Field("int"))
CVALUES_COMPARISON = Record("cvalues_comparison", "CValues-Comparison", neg_resp=OPT, pos_type=OPT, neg_type=OPT,
                            prompt=TEXT, pos_resp=TEXT)
CVALUES_MC = Record("cvalues_mc", "CValues responsibility MC", prompt=TEXT, meta_info=Field("dict|null"),
                    label=TEXT)
CVALUES_MC_INFO = Record("cvalues_mc.meta_info", "its meta_info", question=OPT, neg_resp=OPT, pos_resp=OPT,
                         domain_en=OPT)
CVALUES_RESPONSIBILITY = Record("cvalues_responsibility", "CValues responsibility prompts",
                                id_=ID, prompt=TEXT, domain_en=OPT, domain_zh=OPT)
SEVAL = Record("seval", "S-Eval base and attack sets", traceid=Field("str|int"), prompt=TEXT, risk_type=OPT)
MSEED = Record("mseed", "MSEED JSON list", category=OPT, subclass=OPT, prompt=TEXT)
NEWSAFETY = Record("newsafety", "project-written New-Safety sets", id=Field("str|int"), prompt=TEXT,
                   category=TEXT)
ALPACA = Record("alpaca", "Alpaca", instruction=TEXT, input=OPT, id=Field("str|int|null"), output=OPT)
SHAREGPT = Record("sharegpt", "ShareGPT (turns are checked by the reader)", id=Field("str|int|null"))
SHAREGPT_TURNS = Field("list")  # under `conversations` or `messages`

# ---- inputs of the evaluation and scoring stages
WORD = Field("str", nonblank=True)
SCORE_INPUT = CANDIDATES.pick("id", "cand_id", "prompt", "response", name="score input")
SCORE_INPUT.fields.update(id=WORD, cand_id=WORD)  # a candidate needs its ids to be scored
NEWSAFETY_ITEM = Record("newsafety item", "data/eval/newsafety.jsonl", id=WORD, category=WORD, prompt=WORD)
OVERREFUSAL_ITEM = Record("overrefusal item", "eval.overrefusal.path", id=WORD, prompt=WORD,
                          lang=Field("str|null", enum=LANGS))
RESPONSIBILITY_ITEM = Record("responsibility item", "eval.responsibility.path", prompt=WORD,
                             label=Field("str", enum=("回复1", "回复2")), meta_info=Field("dict|null"))
CALIBRATION_ITEM = Record("calibration item", "judge calibration set", id=WORD, prompt=WORD, response=TEXT,
                          verdict=Field("str", enum=("safe", "unsafe")))
TRAINING_PROMPT = Record("training prompt", "eval.newsafety.decontaminate files", prompt=TEXT)
REVIEW_QUEUE = Record("review queue row", "data/review/queue*.jsonl", key=WORD, kind=WORD)
REVIEW_LABEL = Record("review label", "data/review/labels.jsonl", key=TEXT, label=TEXT)
