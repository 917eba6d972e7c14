DROP TABLE data_subject_request_numbers;
DROP TABLE data_subject_requests;
