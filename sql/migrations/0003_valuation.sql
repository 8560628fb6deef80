-- valuation: tables of the valuation domain.
SELECT 1;
