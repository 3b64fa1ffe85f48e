-- Sources of the basic item catalogue (基本目录) and the document catalogue
-- (材料目录), harvested like services (issue 16; see catalogues.py).
ALTER TABLE source DROP CONSTRAINT source_kind_check;
ALTER TABLE source ADD CONSTRAINT source_kind_check
    CHECK (kind IN ('services', 'basic_items', 'documents', 'statistics'));
