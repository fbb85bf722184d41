-- Inputs of select. Explicit columns: keys missing from a record read as NULL, nothing is inferred.
-- $features: data/score/features.jsonl. `line` is the record's position (blank lines excluded): the table
-- keeps the file's order, so it is rowid + 1 (row_number() OVER () would read the file on one thread).
CREATE OR REPLACE TEMP TABLE feat_rows AS
SELECT *
FROM read_ndjson($features, columns = {
    id: 'VARCHAR', cand_id: 'VARCHAR', source: 'VARCHAR', native_id: 'VARCHAR', category: 'VARCHAR',
    lang: 'VARCHAR', prompt: 'VARCHAR', origin: 'VARCHAR', parent_id: 'VARCHAR', response: 'VARCHAR',
    candidate_type: 'VARCHAR', response_model: 'VARCHAR', gen_error: 'VARCHAR', parse_error: 'BOOLEAN',
    ppl: 'DOUBLE', response_score: 'DOUBLE', instruction_score: 'DOUBLE', score_parse_error: 'BOOLEAN'});

CREATE OR REPLACE TEMP VIEW feat AS SELECT rowid + 1 AS line, * FROM feat_rows;

-- First record lacking a field selection cannot do without (reported as file:line).
CREATE OR REPLACE TEMP TABLE feat_missing AS
SELECT line, CASE WHEN id IS NULL THEN 'id' WHEN cand_id IS NULL THEN 'cand_id' WHEN source IS NULL THEN 'source'
                  WHEN category IS NULL THEN 'category' ELSE 'prompt' END AS field
FROM feat
WHERE id IS NULL OR cand_id IS NULL OR source IS NULL OR category IS NULL OR prompt IS NULL
ORDER BY line LIMIT 1;
