-- What a ticket create costs PostgreSQL (issue 16 item 3; docs/BENCHMARKS.md, branch
-- pgcreate): the word pairs' function, made cheaper without changing what it computes.
--
-- tandem_pairs (migration 0045) computes the word pairs of a vector for the pair
-- indexes of tickets and comments, so every insert of a ticket or a comment calls it.
-- As a LANGUAGE sql function that cannot be inlined, PostgreSQL parsed and planned its
-- query again at each statement that called it; a PL/pgSQL function keeps the plan of
-- its query for the session. Same query, same result for every vector (so the indexes
-- built with the old body stay valid; checked equal on 300 two-field vectors and on one of
-- 17,000 words, whose last words share position 16,383): 2,000 calls on a 300-byte comment's vector took
-- 400-510 ms of a backend's CPU before and 250-260 ms after, and 1,500 comment inserts
-- (one statement each) 2.2-2.6 s before and 1.6-1.8 s after.
CREATE OR REPLACE FUNCTION tandem_pairs(v tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT COST 10000
    AS $$ BEGIN
        RETURN (SELECT array_to_tsvector(COALESCE(array_agg(DISTINCT a.l || ' ' || b.l), '{}'))
            FROM (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) a
            JOIN (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) b ON b.p = a.p + 1);
    END $$;
