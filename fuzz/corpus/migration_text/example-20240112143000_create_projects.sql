-- migrate:up
CREATE TYPE project_visibility AS ENUM ('private', 'internal', 'public');

CREATE TABLE projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9-]{2,64}$'),
    visibility project_visibility NOT NULL DEFAULT 'private',
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_id, slug)
);

-- Keep updated_at honest without trusting every writer.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();  -- a semicolon inside a dollar-quoted body
    RETURN NEW;
END;
$$;

ALTER TABLE projects ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TRIGGER projects_touch BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- migrate:down
DROP TABLE projects;
DROP FUNCTION touch_updated_at();
DROP TYPE project_visibility;
