-- Back to one group role: the installation's privileges return to `aura_app`.
SELECT aura_move_grants(current_setting('aura.app_role', true), 'aura_app')
WHERE coalesce(current_setting('aura.app_role', true), '') NOT IN ('', 'aura_app');
DROP FUNCTION aura_move_app_grants();
DROP FUNCTION aura_move_grants(text, text);
