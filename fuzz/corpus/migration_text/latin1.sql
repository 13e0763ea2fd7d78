-- migrate:up
SELECT ÿ;
