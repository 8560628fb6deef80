-- valuation: assessment reports are stored uncompressed. A report (both languages) is ~34 KB of JSON;
-- compressing it (pglz) cost about 1.3 ms of PostgreSQL CPU per assessment, more than half of the insert,
-- for ~2.3x less disk (~17 KB instead of ~38 KB per report). Reports are written once and read whole,
-- so the CPU matters more than the disk here.
-- Only the storage strategy changes (no rewrite): rows written before stay compressed and read as before.
ALTER TABLE assessments ALTER COLUMN report SET STORAGE EXTERNAL;
