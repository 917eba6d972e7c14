DROP TABLE document_uploads;
