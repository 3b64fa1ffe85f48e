-- Sources of the service centres' live queues (issue 17; see queues.py),
-- harvested every minute into the platform's queue time series. The list also
-- names the service centres' catalogue kind of the same issue (catalogues.py),
-- so whichever of the two migrations runs last keeps both.
ALTER TABLE source DROP CONSTRAINT source_kind_check;
ALTER TABLE source ADD CONSTRAINT source_kind_check
    CHECK (kind IN ('services', 'basic_items', 'documents', 'statistics', 'service_centres', 'queues'));
