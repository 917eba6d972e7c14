-- The DPIA drafts go (RLS is lifted for the delete, as in 000016's down).
ALTER TABLE ai_suggestions NO FORCE ROW LEVEL SECURITY;
DELETE FROM ai_suggestions WHERE kind = 'dpia_draft';
ALTER TABLE ai_suggestions FORCE ROW LEVEL SECURITY;
ALTER TABLE ai_suggestions DROP CONSTRAINT ai_suggestions_kind_check;
ALTER TABLE ai_suggestions ADD CONSTRAINT ai_suggestions_kind_check
    CHECK (kind IN ('policy_draft', 'activity_suggestion', 'answer', 'breach_measures'));
