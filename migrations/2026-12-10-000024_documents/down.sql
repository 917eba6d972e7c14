DROP TABLE document_keys;
DROP TABLE document_chunks;
DROP TABLE document_versions;
DROP TABLE documents;
