-- Delta updates (issue 19, docs/delta-updates.md). A release's chunk index lives in the
-- artifact store under its own SHA-256 (signed in the manifest); the column says it was
-- uploaded, and keeps start-up clean-up from removing it as unreferenced.
ALTER TABLE releases ADD COLUMN chunk_index_sha256 TEXT;

-- What each device of a plan downloaded against the artifact's full size, as its agent
-- reported on `downloaded`: the plan's savings are the sums.
ALTER TABLE plan_devices ADD COLUMN delivery_method TEXT;
ALTER TABLE plan_devices ADD COLUMN bytes_downloaded INTEGER;
ALTER TABLE plan_devices ADD COLUMN bytes_full INTEGER;
