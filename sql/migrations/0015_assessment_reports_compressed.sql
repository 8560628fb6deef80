-- valuation: a new assessment stores its two reports compressed, as LZ4 blocks with their size in front (what
-- lz4.block.compress(..., store_size=True) writes: valuation.store.pack_report), in bytea columns PostgreSQL keeps
-- out of line without compressing them again (STORAGE EXTERNAL). A report is ~17 KB of JSON and compresses to
-- ~4.8 KB (~7 us in the service): stored as json it took 9 TOAST chunks per language, each a heap row, an index
-- entry and its WAL, and a validation pass. Measured per insert (without the audit row): ~350 -> ~190 us of
-- PostgreSQL CPU and 37 -> 12 KB of WAL. patent_degrees holds the value degree (V) of each offered patent in the
-- report's order: what valuation.public's summary reads without opening the report.
-- Rows written before keep their json (0009) or jsonb (0003) reports and read as before (no rewrite: the table
-- is append-only); a row holds its report in exactly one form, and patent_degrees one value per offered patent.
ALTER TABLE assessments
    ADD COLUMN report_zh_lz4 bytea,
    ADD COLUMN report_en_lz4 bytea,
    ADD COLUMN patent_degrees float8[];
ALTER TABLE assessments
    ALTER COLUMN report_zh_lz4 SET STORAGE EXTERNAL,
    ALTER COLUMN report_en_lz4 SET STORAGE EXTERNAL,
    DROP CONSTRAINT assessments_report_form,
    ADD CONSTRAINT assessments_report_form CHECK (
        (report_zh IS NULL) = (report_en IS NULL)
        AND (report_zh_lz4 IS NULL) = (report_en_lz4 IS NULL)
        AND (report_zh_lz4 IS NULL) = (patent_degrees IS NULL)
        AND num_nonnulls(report, report_zh, report_zh_lz4) = 1
    ),
    ADD CONSTRAINT assessments_patent_degrees CHECK (
        cardinality(patent_degrees) = patent_count AND array_position(patent_degrees, NULL) IS NULL
    );
