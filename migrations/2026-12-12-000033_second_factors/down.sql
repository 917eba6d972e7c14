DROP FUNCTION aura_account_memberships(uuid);
DROP FUNCTION aura_find_mfa_challenge(bytea);
DROP TABLE mfa_challenges;
DROP TABLE second_factors;
