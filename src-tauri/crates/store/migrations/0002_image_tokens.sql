-- A reply's image-token figures, as the engine reports them: image tokens among the prompt
-- tokens taken from the KV cache, and those encoded for the reply. NULL when the prompt held no
-- image, and for replies stored before this migration.

ALTER TABLE messages ADD COLUMN image_tokens_reused INTEGER;
ALTER TABLE messages ADD COLUMN image_tokens_encoded INTEGER;
