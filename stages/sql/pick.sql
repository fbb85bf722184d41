-- Needs table `contam(prompt)`: prompt texts overlapping an evaluation set (decontam.sql).

-- 5. decontamination
CREATE OR REPLACE TEMP TABLE s5_decontam AS
SELECT s.* FROM s4_instruction s JOIN feat f USING (line)
WHERE NOT EXISTS (SELECT 1 FROM contam c WHERE c.prompt = f.prompt);

-- 6. best candidate per prompt: highest response score; ties prefer the regenerated response
CREATE OR REPLACE TEMP TABLE s6_best AS
SELECT * EXCLUDE (rk) FROM (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY response_score DESC,
        CASE candidate_type WHEN 'regenerated' THEN 0 WHEN 'original' THEN 1 ELSE 2 END, cand_id) AS rk
    FROM s5_decontam)
WHERE rk = 1;

-- 7. per-category cap: strongest instructions first (lowest instruction score), then most fluent, then safest
CREATE OR REPLACE TEMP TABLE s7_cap AS
SELECT * EXCLUDE (rk) FROM (
    SELECT *, row_number() OVER (PARTITION BY category
        ORDER BY instruction_score, ppl, response_score DESC, id) AS rk
    FROM s6_best)
WHERE CAST($per_category_cap AS BIGINT) IS NULL OR rk <= CAST($per_category_cap AS BIGINT);

-- general-instruction mix: decontaminated, a fixed pseudo-random sample (md5 of id)
CREATE OR REPLACE TEMP TABLE general_pick AS
SELECT * FROM (SELECT g.* FROM general g ANTI JOIN contam c ON g.prompt = c.prompt)
ORDER BY md5(id), id
LIMIT CAST($general_count AS BIGINT);

-- helpfulness mix: decontaminated, a fixed pseudo-random sample of $helpful_count rows
CREATE OR REPLACE TEMP TABLE helpful_pick AS
SELECT * FROM (SELECT h.* FROM helpful h ANTI JOIN contam c ON h.prompt = c.prompt)
ORDER BY md5(id), id
LIMIT CAST($helpful_count AS BIGINT);

-- preference pairs: chosen = the selected best candidate, rejected = the prompt's worst usable candidate
CREATE OR REPLACE TEMP TABLE pref AS
SELECT b.id, b.category, b.source, fb.prompt, b.cand_id AS chosen_id, w.cand_id AS rejected_id,
       fb.response AS chosen, fw.response AS rejected, b.response_score - w.response_score AS gap
FROM s7_cap b
JOIN (SELECT * EXCLUDE (rk) FROM (
          SELECT *, row_number() OVER (PARTITION BY id ORDER BY response_score, cand_id DESC) AS rk
          FROM s1_valid WHERE id IN (SELECT id FROM s7_cap))
      WHERE rk = 1) w ON b.id = w.id
JOIN feat fb ON fb.line = b.line
JOIN feat fw ON fw.line = w.line
WHERE w.cand_id <> b.cand_id AND b.response_score - w.response_score > CAST($pref_min_gap AS DOUBLE)
ORDER BY b.category, b.id;

-- lineage of every SFT row; native_id falls back to the part of `<source>/<native_id>` ids after the source
CREATE OR REPLACE TEMP TABLE selected AS
SELECT s.id, s.cand_id, s.source,
       coalesce(f.native_id, CASE WHEN starts_with(s.id, s.source || '/') AND coalesce(f.origin, 'original') = 'original'
                                   AND NOT regexp_full_match(substr(s.id, length(s.source) + 2), 'h[0-9a-f]{12}')
                              THEN substr(s.id, length(s.source) + 2) END) AS native_id,
       f.parent_id, s.category, f.lang, f.origin, s.candidate_type, f.response_model,
       s.ppl, s.response_score, s.instruction_score, 'sft' AS split, f.prompt, f.response
FROM s7_cap s JOIN feat f USING (line)
UNION ALL
SELECT id, id || '#ref', source, native_id, NULL, 'other', NULL, NULL, 'original', NULL,
       NULL, NULL, NULL, 'general', prompt, response
FROM general_pick
UNION ALL
SELECT id, id || '#ref', source, native_id, NULL, 'other', NULL, NULL, 'original', NULL,
       NULL, NULL, NULL, 'helpful', prompt, response
FROM helpful_pick;
