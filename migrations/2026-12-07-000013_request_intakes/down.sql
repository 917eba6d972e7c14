DROP FUNCTION IF EXISTS aura_find_public_intake(text);
DROP TABLE IF EXISTS request_intakes;
