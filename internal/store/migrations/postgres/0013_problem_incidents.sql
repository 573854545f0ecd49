-- Problem and incident linking: a problem's incidents are listed
-- (/api/v2/tickets/{id}/incidents.json), counted (has_incidents, the incidents view
-- column) and found by problem_id in views, triggers and search. Most tickets link to
-- no problem; the index still serves "problem_id = ?" with one range.
CREATE INDEX tickets_problem ON tickets(account_id, problem_id, id);
