-- migrate:up
ALTER TABLE projects ADD COLUMN archived_at timestamptz;

CREATE VIEW active_projects AS
    SELECT id, owner_id, slug, visibility, created_at
    FROM projects
    WHERE archived_at IS NULL;

-- migrate:down
DROP VIEW active_projects;
ALTER TABLE projects DROP COLUMN archived_at;
