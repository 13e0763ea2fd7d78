-- migrate:down
DROP TABLE t;
-- migrate:up
CREATE TABLE t (a int);
