DROP TABLE personal_data_breaches;
