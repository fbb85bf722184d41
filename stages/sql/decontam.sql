-- Decontamination against the evaluation sets (paper 4 benchmarks must not leak into training data).
-- Needs tables eval_text(evalset, prompt) and cand_text(prompt); $n = select.decontam_ngram.
-- Tokens are those of stages.text.tokens (the reference: tests/test_select.py checks they agree): every
-- CJK character is one token, every other letter/digit run one token, lower case, punctuation dropped.
-- NFKC is approximated by folding full-width letters and digits to ASCII.
CREATE OR REPLACE TEMP MACRO mseed_tokens(s) AS regexp_extract_all(
    lower(CASE WHEN regexp_matches(s, '[０-９Ａ-Ｚａ-ｚ]')
               THEN translate(s, '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') ELSE s END),
    '[\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}\x{3040}-\x{30ff}\x{ac00}-\x{d7af}]|[\pL\pN]+');

-- token hashes; an n-gram is the hash of n consecutive token hashes, a text shorter than n is one n-gram
CREATE OR REPLACE TEMP MACRO mseed_token_hashes(s) AS list_transform(mseed_tokens(s), lambda x: hash(x));

CREATE OR REPLACE TEMP MACRO mseed_ngrams(h, n) AS
    list_transform(range(1, greatest(len(h) - n + 1, 1) + 1), lambda i: hash(h[i:i + n - 1]));

CREATE OR REPLACE TEMP TABLE eval_tok AS
SELECT evalset, mseed_token_hashes(prompt) AS h FROM eval_text;

CREATE OR REPLACE TEMP TABLE eval_exact AS
SELECT DISTINCT evalset, hash(h) AS norm FROM eval_tok WHERE len(h) > 0;

CREATE OR REPLACE TEMP TABLE eval_gram AS
SELECT DISTINCT evalset, unnest(mseed_ngrams(h, CAST($n AS BIGINT))) AS g FROM eval_tok WHERE len(h) > 0;

CREATE OR REPLACE TEMP TABLE cand_tok AS
SELECT prompt, mseed_token_hashes(prompt) AS h FROM cand_text;

-- one row per (training prompt, evaluation set) it overlaps; exact = the same normalized token sequence
CREATE OR REPLACE TEMP TABLE contam_hits AS
SELECT c.prompt, e.evalset, true AS exact
FROM cand_tok c JOIN eval_exact e ON hash(c.h) = e.norm
WHERE len(c.h) > 0
UNION
SELECT g.prompt, e.evalset, false AS exact
FROM (SELECT prompt, unnest(mseed_ngrams(h, CAST($n AS BIGINT))) AS g FROM cand_tok WHERE len(h) > 0) g
JOIN eval_gram e USING (g);

CREATE OR REPLACE TEMP TABLE contam AS
SELECT prompt, bool_or(exact) AS exact, list(DISTINCT evalset ORDER BY evalset) AS evalsets
FROM contam_hits GROUP BY prompt;
