-- Helpfulness mix (issue 13): benign-but-sensitive prompts with helpful answers written for the project,
-- JSONL {id, prompt, response, lang, type} at $helpful_path. Lineage id `project_helpful/<id>`.
CREATE OR REPLACE TEMP TABLE helpful AS
SELECT DISTINCT ON (id) 'project_helpful/' || id AS id, 'project_helpful' AS source, id AS native_id, prompt, response
FROM read_ndjson($helpful_path, columns = {id: 'VARCHAR', prompt: 'VARCHAR', response: 'VARCHAR'})
WHERE id IS NOT NULL AND trim(coalesce(prompt, '')) <> '' AND trim(coalesce(response, '')) <> ''
ORDER BY id;
