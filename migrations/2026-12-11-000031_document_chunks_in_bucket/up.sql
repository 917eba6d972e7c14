-- Documents on an S3-compatible bucket (issue 15): with `DOCUMENT_STORAGE=s3` a chunk's
-- sealed bytes go to the object `documents/{tenant}/{version}/{index}` and its row here
-- keeps only its place (what a commit counts and a read joins), with `sealed` NULL.
-- Rows written before (or with the default PostgreSQL storage) keep their bytes and are
-- read from here either way.
ALTER TABLE document_chunks ALTER COLUMN sealed DROP NOT NULL;
