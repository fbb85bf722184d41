-- Rows (candidates) and distinct prompts kept after each step, overall and per category / source /
-- origin / language. origin: augmented_prompt (a prompt made by augment), regenerated (a safety_model
-- response to a collected prompt), source_response (the source's own reference or negative response).
SELECT step, category, source, origin, lang, count(*) AS rows, count(DISTINCT id) AS prompts
FROM (
    SELECT s.step, s.id, s.category, s.source,
           CASE WHEN coalesce(f.origin, 'original') <> 'original' THEN 'augmented_prompt'
                WHEN f.candidate_type = 'regenerated' THEN 'regenerated'
                ELSE 'source_response' END AS origin,
           coalesce(f.lang, 'unknown') AS lang
    FROM (
        SELECT '0_input' AS step, line, id, category, source FROM feat
        UNION ALL SELECT '1_valid', line, id, category, source FROM s1_valid
        UNION ALL SELECT '2_ppl', line, id, category, source FROM s2_ppl
        UNION ALL SELECT '3_response_score', line, id, category, source FROM s3_response
        UNION ALL SELECT '4_instruction_score', line, id, category, source FROM s4_instruction
        UNION ALL SELECT '5_decontam', line, id, category, source FROM s5_decontam
        UNION ALL SELECT '6_best_per_prompt', line, id, category, source FROM s6_best
        UNION ALL SELECT '7_category_cap', line, id, category, source FROM s7_cap) s
    JOIN feat f USING (line))
GROUP BY GROUPING SETS ((step), (step, category), (step, source), (step, origin), (step, lang))
ORDER BY step, category NULLS FIRST, source NULLS FIRST, origin NULLS FIRST, lang NULLS FIRST;
