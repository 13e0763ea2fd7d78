-- migrate:up
CREATE TABLE t (a int);
-- migrate:down
DROP TABLE t;
