-- One bot for a whole region (issue 27): the establishment (UAI code, upper case) an account
-- belongs to, from the CSV's « uai » column or the directory's UAI attribute; NULL: the
-- region's defaults. Staff commands filter on it in SQL, hence the index.
ALTER TABLE accounts ADD COLUMN uai TEXT;
CREATE INDEX accounts_uai ON accounts (uai, status);
-- A campaign recorded for one establishment (NULL: for the whole region, regional staff only).
ALTER TABLE broadcast_campaigns ADD COLUMN uai TEXT;
