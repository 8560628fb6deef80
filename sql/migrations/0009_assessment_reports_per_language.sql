-- valuation: a new assessment stores its report per language as json (the text the service encoded, kept as
-- sent) in report_zh and report_en, instead of one jsonb holding both languages (~34 KB). jsonb input parses
-- the whole document into its binary form (~0.27 ms of PostgreSQL CPU), and that form is larger (~41 KB
-- against ~35 KB stored, so more TOAST chunks and WAL); json only validates it (~0.08 ms). Measured per insert
-- with its audit row: 0.92 -> 0.55 ms of PostgreSQL CPU. A read returns one language's stored text instead
-- of extracting it from the jsonb and serialising it again.
-- Rows written before keep their jsonb report (read as before, no rewrite); new rows leave it NULL.
ALTER TABLE assessments
    ALTER COLUMN report DROP NOT NULL,
    ADD COLUMN report_zh json,
    ADD COLUMN report_en json;
ALTER TABLE assessments
    ALTER COLUMN report_zh SET STORAGE EXTERNAL,
    ALTER COLUMN report_en SET STORAGE EXTERNAL,
    ADD CONSTRAINT assessments_report_form CHECK ((report IS NULL) = (report_zh IS NOT NULL AND report_en IS NOT NULL));
