-- FTS5 merges of the small segments that writes leave (internal/store/ftsmerge.go). Each
-- write transaction that indexes rows adds a segment to tickets_fts and
-- ticket_comments_fts, and FTS5's automerge merges four segments of a level at a time,
-- as later writes give it work: after 5,749 creates on a seeded million-ticket file the
-- indexes held 21 and 14 segments beside the seeded one. When writes have gone quiet, the
-- store merges them with FTS5's 'merge' command, which merges only levels holding at
-- least 'usermerge' segments: 2 here (FTS5's default is 4), so that the segments left
-- on their levels by automerge are merged too. The setting is kept in each index's
-- _config table; it changes nothing FTS5 does at a write.
INSERT INTO tickets_fts (tickets_fts, rank) VALUES ('usermerge', 2);
INSERT INTO ticket_comments_fts (ticket_comments_fts, rank) VALUES ('usermerge', 2);
