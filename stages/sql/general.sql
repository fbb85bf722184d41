-- General-instruction SFT pool (data/collect/general.jsonl): rows with a non-empty prompt and reference response.
CREATE OR REPLACE TEMP TABLE general AS
SELECT DISTINCT ON (id) id, source, native_id, prompt, response
FROM read_ndjson($general, columns = {
    id: 'VARCHAR', source: 'VARCHAR', native_id: 'VARCHAR', prompt: 'VARCHAR', response: 'VARCHAR'})
WHERE id IS NOT NULL AND trim(coalesce(prompt, '')) <> '' AND trim(coalesce(response, '')) <> ''
ORDER BY id;
