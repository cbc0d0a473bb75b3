-- Function calling: a reply that called tools keeps its calls, a tool message the result of one
-- call, as JSON (the store's `ToolPart`). NULL for every other message, and for messages stored
-- before this migration.

ALTER TABLE messages ADD COLUMN tool TEXT;
