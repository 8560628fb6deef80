-- matching: tables of the matching domain.
SELECT 1;
