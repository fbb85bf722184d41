-- Rows (candidates) kept after each step, overall and per category / source / origin / language, and
-- distinct prompts overall. origin: augmented_prompt (a prompt made by augment), regenerated (a safety_model
-- response to a collected prompt), source_response (the source's own reference or negative response).
-- The step tables are nested (each keeps a subset of the one before), so a row's reach k (0-7) is the number
-- of step tables holding it and the row is counted at every step <= k; stages/select.py counts the tables
-- holding each line into table `reach` (one row per feat row, in line order: a positional join) and sums.
-- (k, category, source, origin, lang, rows, prompts): rows per group and reach; prompts (overall rows
-- only) = the prompts whose furthest row reaches k
WITH funnel_reach AS (
SELECT f.id, f.category, f.source,
       CASE WHEN coalesce(f.origin, 'original') <> 'original' THEN 'augmented_prompt'
            WHEN f.candidate_type = 'regenerated' THEN 'regenerated'
            ELSE 'source_response' END AS origin,
       coalesce(f.lang, 'unknown') AS lang, r.k
FROM feat f POSITIONAL JOIN reach r)
SELECT k, category, source, origin, lang, count(*) AS rows, NULL AS prompts
FROM funnel_reach
GROUP BY GROUPING SETS ((k), (k, category), (k, source), (k, origin), (k, lang))
UNION ALL
SELECT k, NULL, NULL, NULL, NULL, NULL, count(*) FROM (SELECT id, max(k) AS k FROM funnel_reach GROUP BY id) GROUP BY k;
