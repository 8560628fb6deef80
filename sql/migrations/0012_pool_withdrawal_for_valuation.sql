-- matching: the one pool question valuation asks for an assessment's risk flags ("withdrawn from the pool or under a
-- violation report", VALUATION.md §3), as a function of matching's so that valuation reads it with the applicant's
-- row in the same statement without reading matching's tables itself. The reason code of the enterprise's latest
-- pool entry when that entry was withdrawn ('' if it has none), else NULL (never applied, or applied again since).
-- Which reason codes are violation reports is matching's (matching.public.withdrawal_flags).
CREATE FUNCTION matching_pool_withdrawal(uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e.state = 'withdrawn' THEN coalesce(e.reason_code, '') END
    FROM pool_entries e WHERE e.enterprise_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT 1
$$;
