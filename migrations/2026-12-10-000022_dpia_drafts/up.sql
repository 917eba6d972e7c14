-- The AI assistant's draft of a DPIA's Art. 35(7) content (`dpia_draft`: the systematic
-- description, the necessity assessments, candidate risks) is a suggestion kind of its
-- own in the kind check of `ai_suggestions`.

ALTER TABLE ai_suggestions DROP CONSTRAINT ai_suggestions_kind_check;
ALTER TABLE ai_suggestions ADD CONSTRAINT ai_suggestions_kind_check
    CHECK (kind IN ('policy_draft', 'activity_suggestion', 'answer', 'breach_measures',
                    'dpia_draft'));
