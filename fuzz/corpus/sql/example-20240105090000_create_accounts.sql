-- Accounts own everything else; emails are unique case-insensitively.
-- migrate:up
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email citext NOT NULL UNIQUE,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE accounts IS 'People who can sign in';

-- migrate:down
DROP TABLE accounts;
