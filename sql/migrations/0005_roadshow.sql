-- roadshow: tables of the roadshow domain.
SELECT 1;
