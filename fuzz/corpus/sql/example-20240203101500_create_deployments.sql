-- migrate:up
CREATE TABLE deployments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    git_sha text NOT NULL CHECK (length(git_sha) = 40),
    environment text NOT NULL DEFAULT 'production',
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    started_at timestamptz,
    finished_at timestamptz
);

INSERT INTO accounts (email, display_name)
VALUES ('ops@example.com', 'Operations; on call');

-- migrate:down
DROP TABLE deployments;
DELETE FROM accounts WHERE email = 'ops@example.com';
