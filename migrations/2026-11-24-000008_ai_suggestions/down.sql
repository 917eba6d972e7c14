DROP TABLE IF EXISTS ai_usage;
DROP TABLE IF EXISTS ai_suggestions;
