-- Only while no chunk lives in a bucket (a NULL would refuse the constraint).
ALTER TABLE document_chunks ALTER COLUMN sealed SET NOT NULL;
