-- Local files and private addresses are for sources an operator registered as
-- local (govharvest source add --local), not for every source. A source that
-- already reads a file on this machine was registered so by an operator: it
-- keeps working, marked local.
ALTER TABLE source ADD COLUMN local boolean NOT NULL DEFAULT false;
UPDATE source SET local = true WHERE location !~ '^https?://';
