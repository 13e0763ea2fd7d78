-- Built without blocking writes: CONCURRENTLY cannot run in a transaction,
-- so this migration runs statement by statement and resumes where it failed.
-- migrate:no-transaction
-- migrate:up
CREATE INDEX CONCURRENTLY IF NOT EXISTS deployments_project_started_idx
    ON deployments (project_id, started_at DESC);

CREATE INDEX CONCURRENTLY IF NOT EXISTS deployments_running_idx
    ON deployments (project_id) WHERE status = 'running';

-- migrate:down
DROP INDEX CONCURRENTLY IF EXISTS deployments_running_idx;
DROP INDEX CONCURRENTLY IF EXISTS deployments_project_started_idx;
