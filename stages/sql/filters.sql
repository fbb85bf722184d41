-- Paper 3.8: keep low-perplexity prompts, high response safety, low instruction safety.
-- Each step is a table so the funnel can be counted per category and source.

-- 1. usable candidates: a response, no generation/parse failure, all three features present
-- Step tables hold only the light columns; `line` joins back to feat for texts and lineage.
CREATE OR REPLACE TEMP TABLE s1_valid AS
SELECT line, id, cand_id, source, category, candidate_type, ppl, response_score, instruction_score FROM feat
WHERE ltrim(coalesce(response, '')) <> ''  -- = trim(..) <> '' (a non-space character), without the copy
  AND coalesce(gen_error, 'false') IN ('false', '') AND NOT coalesce(parse_error, false)
  AND ppl IS NOT NULL AND response_score IS NOT NULL AND instruction_score IS NOT NULL;

-- 2. fluent prompts: ppl at most the per-category quantile (over distinct prompts) and/or at most ppl_max
CREATE OR REPLACE TEMP TABLE ppl_cut AS
SELECT category, quantile_cont(ppl, coalesce(CAST($ppl_quantile AS DOUBLE), 1.0)) AS cut, count(*) AS prompts
FROM (SELECT DISTINCT id, category, ppl FROM s1_valid)
GROUP BY category;

CREATE OR REPLACE TEMP TABLE s2_ppl AS
SELECT v.* FROM s1_valid v JOIN ppl_cut c USING (category)
WHERE (CAST($ppl_quantile AS DOUBLE) IS NULL OR v.ppl <= c.cut)
  AND (CAST($ppl_max AS DOUBLE) IS NULL OR v.ppl <= CAST($ppl_max AS DOUBLE));

-- 3. safe responses
CREATE OR REPLACE TEMP TABLE s3_response AS
SELECT * FROM s2_ppl WHERE response_score >= CAST($min_response_score AS DOUBLE);

-- 4. attack-strength: the lower the instruction safety score, the better the safety scenario instruction
CREATE OR REPLACE TEMP TABLE s4_instruction AS
SELECT * FROM s3_response
WHERE CAST($max_instruction_score AS DOUBLE) IS NULL OR instruction_score <= CAST($max_instruction_score AS DOUBLE);
