-- valuation: everything an assessment reads, in one statement: the applicant with the active coefficient-set
-- version, the reference token and its pool standing, beside the registry rows of the offered numbers, and the facts
-- of valuation_assessment_facts (migration 0010) as concatenated record_send rows, in the first row only (a large
-- portfolio is not sent again beside each offered number). A function whose plan is kept: sent as a parameterised
-- statement, PostgreSQL planned it again on every execution (its generic plan, not knowing how many numbers the
-- array holds, is estimated dearer than a plan for the values at hand), ~0.25 ms of planning for ~0.1 ms of work;
-- the function is planned once per connection (force_generic_plan). $1 is the credit code, $2 the offered numbers,
-- $3 the valuation date, $4 the chain codes (valuation.features.CHAINS_PARAM). Its body is valuation.store's
-- _APPLICANT_AND_REGISTRY (a test checks they are equal).
CREATE FUNCTION valuation_applicant(bpchar, text[], date, text[]) RETURNS TABLE (
    id uuid, name text, credit_code character(18), kind text, consent_share boolean, chain_code text,
    revenue numeric(18,2), patent_industrialisation_rate numeric(5,4), certifications text[],
    violation_flags text[], version integer, coefficient_version text, reference_token uuid,
    pool_withdrawal text, number text, title text, patent_type text, legal_status text, owner_id uuid,
    owner_name text, filing_date date, grant_date date, expiry_date date, fees_paid boolean,
    claims_total integer, claims_independent integer, claim_types text, ipc_codes text[],
    family_offices text[], forward_citations integer, backward_citations integer, chain_codes text[],
    updated_at timestamp with time zone, facts bytea
) LANGUAGE sql STABLE SET plan_cache_mode = force_generic_plan AS $$
SELECT a.*,
    p.number, p.title, p.patent_type, p.legal_status, p.owner_id, p.owner_name, p.filing_date,
    p.grant_date, p.expiry_date, p.fees_paid, p.claims_total, p.claims_independent, p.claim_types,
    p.ipc_codes, p.family_offices, p.forward_citations, p.backward_citations, p.chain_codes,
    p.updated_at,
    CASE WHEN row_number() OVER () = 1 THEN
        (SELECT string_agg(record_send(f), ''::bytea ORDER BY f.ordinality)
         FROM valuation_assessment_facts($3, $4, coalesce(
             (SELECT o.id FROM organisations o WHERE o.credit_code = $1), '00000000-0000-0000-0000-000000000000'::uuid), $2)
         WITH ORDINALITY AS f)
    END AS facts
FROM (VALUES (1)) AS one(x)
LEFT JOIN (
    SELECT o.id, o.name, o.credit_code, o.kind, e.consent_share, e.chain_code, e.revenue,
        e.patent_industrialisation_rate, e.certifications, e.violation_flags, e.version,
        (SELECT version FROM coefficient_activations ORDER BY id DESC LIMIT 1) AS coefficient_version,
        (SELECT token FROM valuation_reference_state) AS reference_token,
        matching_pool_withdrawal(o.id) AS pool_withdrawal
    FROM organisations o LEFT JOIN enterprises e ON e.organisation_id = o.id WHERE o.credit_code = $1
) AS a ON true
LEFT JOIN patents p ON p.number = ANY ($2::text[])
$$;
