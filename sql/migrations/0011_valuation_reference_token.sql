-- valuation: a token that changes whenever the reference data an assessment reads beside its own facts changes:
-- the citation cohorts, the enterprises' sales and chains (the chains' median sales) and the recorded market
-- transactions. A service process keeps those tables in memory under the token it read, so an assessment needs
-- neither the statement nor the PostgreSQL CPU to read them again (~0.6 ms of it per assessment) until any of
-- them changes. The token is a fresh random uuid on every change (statement triggers, in the changing
-- transaction), so a token names one state of the data, in this database and in any database cloned from it.
-- Data changed with triggers disabled (session_replication_role = replica, pg_restore --disable-triggers) must be
-- followed by UPDATE valuation_reference_state SET token = gen_random_uuid() (or a restart of the service).
CREATE TABLE valuation_reference_state (
    id    boolean PRIMARY KEY DEFAULT true CHECK (id),
    token uuid NOT NULL
);
INSERT INTO valuation_reference_state (token) VALUES (gen_random_uuid());

CREATE FUNCTION valuation_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE valuation_reference_state SET token = gen_random_uuid();
    RETURN NULL;
END
$$;

CREATE TRIGGER citation_cohorts_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON citation_cohorts
    FOR EACH STATEMENT EXECUTE FUNCTION valuation_reference_changed();
CREATE TRIGGER market_transactions_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON market_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION valuation_reference_changed();
CREATE TRIGGER enterprises_reference
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF revenue, patent_industrialisation_rate, chain_code ON enterprises
    FOR EACH STATEMENT EXECUTE FUNCTION valuation_reference_changed();
