-- Values for fields a source does not carry (an Open311 list has no audience…),
-- and a credentials reference that can only ever be a reference, never a secret.
ALTER TABLE source ADD COLUMN defaults jsonb NOT NULL DEFAULT '{}';
ALTER TABLE source ADD CONSTRAINT source_credentials_ref_is_a_reference
    CHECK (credentials_ref IS NULL OR credentials_ref ~ '^(basic:)?(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$') NOT VALID;
