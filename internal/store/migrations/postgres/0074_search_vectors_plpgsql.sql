-- What a ticket create costs PostgreSQL (issue 16 item 3; docs/BENCHMARKS.md, branch
-- pgc10): the search vectors' functions, planned once a session instead of once a
-- statement. They compute the same vectors as before.
--
-- tickets.search_tsv, tickets.subject_tsv and ticket_comments.search_tsv are generated
-- columns of tandem_ticket_tsv and tandem_comment_tsv (migrations 0004, 0034). At the
-- start of every statement that inserts or updates such a row, PostgreSQL prepares the
-- generated columns' expressions again, and as LANGUAGE sql functions these were
-- inlined each time: their bodies fetched, parsed and analysed (eval_const_expressions,
-- 2.3 % of the backends' CPU in a profile of 16 clients creating tickets). A PL/pgSQL
-- function is compiled once a session and its one expression's plan kept; the
-- statement's preparation sees only a call. Same expression, same result for every
-- input (NULL included: each call was NULL for a NULL text and still is), so the stored
-- vectors and the GIN indexes built from them stay valid; nothing else inlined them
-- (no index expression names them; tandem_pairs_query calls tandem_comment_tsv).
-- 4,000 single-row inserts of three such columns: 0.98-1.49 s of a backend's CPU
-- with the SQL functions, 0.75-1.18 s with these (five pairs); 20,000 rows in one
-- INSERT … SELECT took the same time with either.
CREATE OR REPLACE FUNCTION tandem_ticket_tsv(subject TEXT, description TEXT) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$ BEGIN
        RETURN setweight(to_tsvector('simple'::regconfig, regexp_replace(subject, '[^[:alnum:]]+', ' ', 'g')), 'A')
            || setweight(to_tsvector('simple'::regconfig, regexp_replace(description, '[^[:alnum:]]+', ' ', 'g')), 'B');
    END $$;

CREATE OR REPLACE FUNCTION tandem_comment_tsv(body TEXT) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$ BEGIN
        RETURN to_tsvector('simple'::regconfig, regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'));
    END $$;
