-- Decontamination against the evaluation sets (paper 4 benchmarks must not leak into training data).
-- Needs tables eval_text(evalset, prompt) and cand_text(prompt); $n = select.decontam_ngram.
-- Tokens are those of stages.text.tokens (the reference: tests/test_select.py checks they agree): every
-- CJK character is one token, every other letter/digit run one token, lower case, punctuation dropped.
-- NFKC is approximated by folding full-width letters and digits to ASCII.
CREATE OR REPLACE TEMP MACRO mseed_norm(s) AS
    lower(CASE WHEN regexp_matches(s, '[０-９Ａ-Ｚａ-ｚ]') THEN translate(s, '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') ELSE s END);

-- the CJK ranges, one token per character (a constant: the patterns built from it are compiled once)
CREATE OR REPLACE TEMP MACRO mseed_cjk() AS '\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}\x{3040}-\x{30ff}\x{ac00}-\x{d7af}';

-- The tokens of normalized text t are regexp_extract_all(t, '[CJK]|[\pL\pN]+'), one regex match per token
-- (the slow part). Three common shapes give the same list by string splits: only CJK characters (each a
-- token); lower-case ASCII words with single spaces; no letter/digit outside CJK (CJK and punctuation:
-- each CJK character a token; a letter/digit run starting outside CJK would also take the CJK after it).
CREATE OR REPLACE TEMP MACRO mseed_split(t) AS CASE
    WHEN regexp_full_match(t, '[' || mseed_cjk() || ']+') THEN string_split(t, '')
    WHEN regexp_full_match(t, '[a-z0-9]+( [a-z0-9]+)*') THEN string_split(t, ' ')
    WHEN NOT regexp_matches(t, '[^' || mseed_cjk() || '\PL]|[^' || mseed_cjk() || '\PN]')
        THEN list_filter(string_split(regexp_replace(t, '[^' || mseed_cjk() || ']+', '', 'g'), ''), lambda x: x <> '')
    ELSE regexp_extract_all(t, '[' || mseed_cjk() || ']|[\pL\pN]+') END;

CREATE OR REPLACE TEMP MACRO mseed_tokens(s) AS mseed_split(mseed_norm(s));

-- token hashes; an n-gram is one hash of n consecutive token hashes, from two overlapping halves of
-- m = ceil(n/2) tokens: q[i] = hash(h[i], ..., h[i+m-1]) ({{half_hash}}, {{half}} = m), n-gram i =
-- hash(q[i], q[i+n-m]) ({{shift}} = n - m): fewer list reads than hashing n values per n-gram (no list
-- slices: the pieces are written out for $n by stages/select.py). A text shorter than n is one n-gram, the
-- hash of its token list. Give mseed_ngrams q = mseed_halves(h) from a subquery (a macro argument is
-- recomputed at every use).
CREATE OR REPLACE TEMP MACRO mseed_token_hashes(s) AS list_transform(mseed_tokens(s), lambda x: hash(x));

CREATE OR REPLACE TEMP MACRO mseed_halves(h) AS list_transform(range(1, len(h) - {{half}} + 2), lambda i: {{half_hash}});

CREATE OR REPLACE TEMP MACRO mseed_ngrams(h, q, n) AS CASE WHEN len(h) < n THEN [hash(h)]
    ELSE list_transform(range(1, len(h) - n + 2), lambda i: hash(q[i], q[i + {{shift}}])) END;

CREATE OR REPLACE TEMP TABLE eval_tok AS
SELECT evalset, mseed_token_hashes(prompt) AS h FROM eval_text;

CREATE OR REPLACE TEMP TABLE eval_exact AS
SELECT DISTINCT evalset, hash(h) AS norm FROM eval_tok WHERE len(h) > 0;

CREATE OR REPLACE TEMP TABLE eval_gram AS
SELECT DISTINCT evalset, unnest(mseed_ngrams(h, q, CAST($n AS BIGINT))) AS g
FROM (SELECT evalset, h, mseed_halves(h) AS q FROM eval_tok WHERE len(h) > 0);

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
FROM (SELECT pid, unnest(mseed_ngrams(h, q, CAST($n AS BIGINT))) AS g
      FROM (SELECT pid, h, mseed_halves(h) AS q FROM cand_h WHERE len(h) > 0)) g
JOIN eval_gram e USING (g);

CREATE OR REPLACE TEMP TABLE contam AS
SELECT t.prompt, h.exact, h.evalsets
FROM (SELECT pid, bool_or(exact) AS exact, list(DISTINCT evalset ORDER BY evalset) AS evalsets
      FROM contam_hits GROUP BY pid) h
JOIN cand_num t USING (pid);
