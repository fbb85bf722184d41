-- Rows (candidates) and distinct prompts kept after each step, overall and per category / per source.
SELECT step, category, source, count(*) AS rows, count(DISTINCT id) AS prompts
FROM (
    SELECT '0_input' AS step, id, category, source FROM feat
    UNION ALL SELECT '1_valid', id, category, source FROM s1_valid
    UNION ALL SELECT '2_ppl', id, category, source FROM s2_ppl
    UNION ALL SELECT '3_response_score', id, category, source FROM s3_response
    UNION ALL SELECT '4_instruction_score', id, category, source FROM s4_instruction
    UNION ALL SELECT '5_decontam', id, category, source FROM s5_decontam
    UNION ALL SELECT '6_best_per_prompt', id, category, source FROM s6_best
    UNION ALL SELECT '7_category_cap', id, category, source FROM s7_cap)
GROUP BY GROUPING SETS ((step), (step, category), (step, source))
ORDER BY step, category NULLS FIRST, source NULLS FIRST;
