-- Decontamination against the evaluation sets (paper 4 benchmarks must not leak into training data).
-- Needs tables eval_text(evalset, prompt) and cand_text(prompt); $n = select.decontam_ngram.
-- Tokens are those of stages.text.tokens (the reference: tests/test_select.py checks they agree): every
-- CJK character is one token, every other letter/digit run one token, lower case, punctuation dropped.
-- NFKC is approximated by folding full-width letters and digits to ASCII.
CREATE OR REPLACE TEMP MACRO mseed_tokens(s) AS regexp_extract_all(
    lower(CASE WHEN regexp_matches(s, '[０-９Ａ-Ｚａ-ｚ]')
               THEN translate(s, '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') ELSE s END),
    '[\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}\x{3040}-\x{30ff}\x{ac00}-\x{d7af}]|[\pL\pN]+');

-- token hashes; an n-gram is one hash of n consecutive token hashes, hash(h[i], ..., h[i+n-1]) (no list
-- slices: {{ngram_hash}} is that expression, written out for $n by stages/select.py); a text shorter than n
-- is one n-gram, the hash of its token list.
CREATE OR REPLACE TEMP MACRO mseed_token_hashes(s) AS list_transform(mseed_tokens(s), lambda x: hash(x));

CREATE OR REPLACE TEMP MACRO mseed_ngrams(h, n) AS CASE WHEN len(h) < n THEN [hash(h)]
    ELSE list_transform(range(1, len(h) - n + 2), lambda i: {{ngram_hash}}) END;

CREATE OR REPLACE TEMP TABLE eval_tok AS
SELECT evalset, mseed_token_hashes(prompt) AS h FROM eval_text;

CREATE OR REPLACE TEMP TABLE eval_exact AS
SELECT DISTINCT evalset, hash(h) AS norm FROM eval_tok WHERE len(h) > 0;

CREATE OR REPLACE TEMP TABLE eval_gram AS
SELECT DISTINCT evalset, unnest(mseed_ngrams(h, CAST($n AS BIGINT))) AS g FROM eval_tok WHERE len(h) > 0;

-- candidate prompts by number (pid): the hits carry integers, not texts
CREATE OR REPLACE TEMP TABLE cand_num AS SELECT row_number() OVER () AS pid, prompt FROM cand_text;

-- the token hashes are a table of their own: a macro's result used several times in one query is recomputed
CREATE OR REPLACE TEMP TABLE cand_h AS SELECT pid, mseed_token_hashes(prompt) AS h FROM cand_num;

-- one row per (training prompt, evaluation set) it overlaps; exact = the same normalized token sequence.
-- The n-grams stream into the join with the (small) evaluation n-gram table; only hits are kept.
CREATE OR REPLACE TEMP TABLE contam_hits AS
SELECT c.pid, e.evalset, true AS exact
FROM cand_h c JOIN eval_exact e ON hash(c.h) = e.norm
WHERE len(c.h) > 0
UNION
SELECT g.pid, e.evalset, false AS exact
FROM (SELECT pid, unnest(mseed_ngrams(h, CAST($n AS BIGINT))) AS g FROM cand_h WHERE len(h) > 0) g
JOIN eval_gram e USING (g);

CREATE OR REPLACE TEMP TABLE contam AS
SELECT t.prompt, h.exact, h.evalsets
FROM (SELECT pid, bool_or(exact) AS exact, list(DISTINCT evalset ORDER BY evalset) AS evalsets
      FROM contam_hits GROUP BY pid) h
JOIN cand_num t USING (pid);
