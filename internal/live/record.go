package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// AfterWrite is the ticket write path's after-hook: it records the change as an event
// in the write's transaction and publishes it once the transaction commits (never if
// it rolls back).
func (h *Hub) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	ev := &Event{Account: ch.Account.ID, Ticket: ch.Ticket.ID, Kind: KindTicket, Channel: Channel(ch),
		ByID: ch.Actor.UserID, By: ch.Actor.Name, Created: ch.Created, Deleted: ch.Ticket.Deleted(), At: store.Now()}
	if ev.By == "" && ev.ByID != 0 {
		// API tokens and triggers' actors carry no name; the stream shows one.
		_ = tx.QueryRowContext(ctx, `SELECT name FROM users WHERE account_id = ? AND id = ?`, ev.Account, ev.ByID).Scan(&ev.By)
	}
	if ch.Origin != nil && ch.Origin.Partner != "" {
		ev.By = ch.Origin.Partner
	}
	for _, e := range ch.Events {
		if e["type"] != "Change" {
			continue
		}
		name, _ := e["field_name"].(string)
		if name == "" {
			continue
		}
		ev.Fields = append(ev.Fields, FieldChange{Field: name, Value: text(e["value"]), Previous: text(e["previous_value"])})
	}
	for _, c := range ch.Comments {
		ev.Comments = append(ev.Comments, CommentAdded{ID: c.ID, Public: c.Public, Author: c.AuthorID})
	}
	for _, c := range ch.MadePrivate {
		ev.Fields = append(ev.Fields, FieldChange{Field: "comment_private", Value: strconv.FormatInt(int64(c.ID), 10)})
	}
	var err error
	if ev.Notify, err = h.notifications(ctx, tx, ch, ev); err != nil {
		return err
	}
	return h.record(ctx, tx, ev)
}

// DeliveryChanged records that the delivery state of a share of ticket tid changed (the
// sharing outbox calls it in the transaction that records the attempt, with the ticket
// its queued row names). A tid of 0 (a row queued without it) is looked up from the
// share: a statement per delivery that the row's own ticket id saves.
func (h *Hub) DeliveryChanged(ctx context.Context, tx *store.Tx, acct ids.Account, tid ids.Ticket, shareID int64) error {
	if tid == 0 {
		err := tx.QueryRowContext(ctx, `SELECT ticket_id FROM ticket_shares WHERE account_id = ? AND id = ?`, acct, shareID).Scan(&tid)
		if errors.Is(err, store.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("live: share's ticket: %w", err)
		}
	}
	return h.record(ctx, tx, &Event{Account: acct, Ticket: tid, Kind: KindDelivery, Channel: "partner", At: store.Now()})
}

// stored is the part of an event kept in live_events.data.
type stored struct {
	Channel  string         `json:"channel,omitempty"`
	ByID     ids.User       `json:"by_id,omitempty"`
	By       string         `json:"by,omitempty"`
	Created  bool           `json:"created,omitempty"`
	Deleted  bool           `json:"deleted,omitempty"`
	Fields   []FieldChange  `json:"fields,omitempty"`
	Comments []CommentAdded `json:"comments,omitempty"`
	Notify   []ids.User     `json:"notify,omitempty"`
}

// record writes ev in tx and publishes it after commit: on PostgreSQL through NOTIFY,
// sent after the commit by the notifier (every process reads the event back), on
// SQLite straight to this process's subscriptions.
func (h *Hub) record(ctx context.Context, tx *store.Tx, ev *Event) error {
	data, err := json.Marshal(stored{Channel: ev.Channel, ByID: ev.ByID, By: ev.By, Created: ev.Created, Deleted: ev.Deleted,
		Fields: ev.Fields, Comments: ev.Comments, Notify: ev.Notify})
	if err != nil {
		return err
	}
	if tx.D() == store.Postgres {
		// The transaction's id and the snapshot it sees: what commits after this event
		// is what this snapshot does not see (Since, catchUp).
		// The statements the write's earlier hooks left to ride (store.Tx.Carry) go in
		// with this one, which reads no table.
		q, args := tx.Carry(`INSERT INTO live_events (account_id, ticket_id, kind, data, created_at, xid, snap)
			VALUES (?, ?, ?, ?, ?, pg_current_xact_id(), pg_current_snapshot()) RETURNING id`,
			[]any{ev.Account, ev.Ticket, ev.Kind, string(data), store.Micros(ev.At)})
		err = tx.QueryRowContext(ctx, q, args...).Scan(&ev.ID)
		if err != nil {
			return fmt.Errorf("live: record event: %w", err)
		}
		// The account rides along, so that a process with no subscription of it does
		// not read the event back (received).
		h.notifyAfter(tx, "e:"+strconv.FormatInt(ev.ID, 10)+"/"+strconv.FormatInt(int64(ev.Account), 10))
		return nil
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO live_events (account_id, ticket_id, kind, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		ev.Account, ev.Ticket, ev.Kind, string(data), store.Micros(ev.At)).Scan(&ev.ID)
	if err != nil {
		return fmt.Errorf("live: record event: %w", err)
	}
	tx.AfterCommit(func() { h.dispatch(ev) })
	return nil
}

const eventColumns = `id, account_id, ticket_id, kind, data, created_at`

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	ev := &Event{}
	var data string
	var at int64
	if err := sc.Scan(&ev.ID, &ev.Account, &ev.Ticket, &ev.Kind, &data, &at); err != nil {
		return nil, err
	}
	var st stored
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		return nil, fmt.Errorf("live: event %d: %w", ev.ID, err)
	}
	ev.Channel, ev.ByID, ev.By, ev.Created, ev.Deleted = st.Channel, st.ByID, st.By, st.Created, st.Deleted
	ev.Fields, ev.Comments, ev.Notify, ev.At = st.Fields, st.Comments, st.Notify, store.Time(at)
	return ev, nil
}

// maxReplay bounds how many events a reconnecting stream is sent; further back it is
// told to resync.
const maxReplay = 500

// Since returns the account's events numbered after after, oldest first. complete is
// false when some of them are no longer kept (or there are too many): the stream then
// tells its client to resync instead.
func (h *Hub) Since(ctx context.Context, acct ids.Account, after int64) (evs []*Event, complete bool, err error) {
	q := h.db.R()
	var oldest int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0) FROM live_events`).Scan(&oldest); err != nil {
		return nil, false, fmt.Errorf("live: oldest event: %w", err)
	}
	if oldest == 0 {
		// Nothing kept at all: complete only if nothing happened since after.
		return nil, h.lastID.Load() <= after, nil
	}
	if oldest > after+1 {
		return nil, false, nil
	}
	cond, args := h.after(after)
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM live_events WHERE account_id = ? AND `+cond+` ORDER BY id LIMIT ?`,
		append(append([]any{acct}, args...), maxReplay+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("live: events since %d: %w", after, err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, false, err
		}
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(evs) > maxReplay {
		return nil, false, nil
	}
	return evs, true, nil
}

// after is the condition "recorded after event id", with its arguments.
// On SQLite writers commit one at a time, in id order: the events after N are those
// numbered above N. On PostgreSQL ids are taken inside the writing transactions, which
// may commit in the other order: when N committed, a lower id could still be in flight
// (a page that read N as the last event, or a stream that was sent N, would never get
// it from "id > N"). So the events after N are also those numbered below N that N's
// transaction did not see committed when it recorded N — every event that may have
// committed after N. Those that in fact committed before N (rare: between N's insert
// and its commit) come again; streams and pages skip an id they already had.
func (h *Hub) after(id int64) (string, []any) {
	if h.db.Dialect != store.Postgres {
		return `id > ?`, []any{id}
	}
	return `(id > ? OR id < ? AND NOT pg_visible_in_snapshot(xid, (SELECT n.snap FROM live_events n WHERE n.id = ?)))`, []any{id, id, id}
}

// LastID is the highest event id this process has dispatched, or the highest recorded.
func (h *Hub) LastID(ctx context.Context) (int64, error) {
	var id int64
	err := h.db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM live_events`).Scan(&id)
	return max(id, h.lastID.Load()), err
}

// listen receives every process's events on PostgreSQL, reconnecting after a failure;
// after each (re)connection it catches up with what was recorded meanwhile.
func (h *Hub) listen(ctx context.Context) {
	if id, err := h.LastID(ctx); err == nil {
		h.lastID.Store(id)
		h.window.start(id)
	}
	ids := make(chan notified, 65536)
	go h.readEvents(ctx, ids)
	for ctx.Err() == nil {
		err := h.db.Listen(ctx, channel, func() {
			h.catchUp(ctx)
			h.markReady()
		}, func(payload string) { h.received(ctx, payload, ids) })
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("live: listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// received handles one notification: "e:ID/ACCOUNT,..." (events, read by readEvents),
// "p:ACCOUNT:TICKET" (presence) or "s:ACCOUNT:TAG" (a sign-out).
func (h *Hub) received(ctx context.Context, payload string, events chan<- notified) {
	kind, rest, _ := strings.Cut(payload, ":")
	switch kind {
	case "e": // "e:ID/ACCOUNT,ID/ACCOUNT,..."
		for _, n := range parseEvents(rest) {
			select {
			case events <- n:
			default:
				// Far behind: the next recheck finds it; say so.
				h.log.Warn("live: event queue full; event dropped", "id", n.id)
			}
		}
	case "s": // a sign-out on another process: "s:ACCOUNT:TAG"
		a, tag, _ := strings.Cut(rest, ":")
		if acct, err := strconv.ParseInt(a, 10, 64); err == nil && tag != "" {
			h.signedOutElsewhere(ids.Account(acct), tag)
		}
	case "p":
		a, t, _ := strings.Cut(rest, ":")
		acct, err1 := strconv.ParseInt(a, 10, 64)
		tid, err2 := strconv.ParseInt(t, 10, 64)
		if err1 == nil && err2 == nil {
			h.presenceChanged(ctx, ids.Account(acct), ids.Ticket(tid))
		}
	}
}

// readEvents reads notified events from the database and dispatches them, as many as
// have arrived in one query, so that a burst costs a few queries, not one each. An
// event of an account with no subscription in this process is not read: nobody here
// could receive it (skip).
func (h *Hub) readEvents(ctx context.Context, events <-chan notified) {
	for {
		var batch []notified
		select {
		case <-ctx.Done():
			return
		case n := <-events:
			batch = append(batch, n)
		}
	more:
		for len(batch) < 500 {
			select {
			case n := <-events:
				batch = append(batch, n)
			default:
				break more
			}
		}
		if read := h.toRead(batch); len(read) > 0 {
			if err := h.dispatchIDs(ctx, read); err != nil && ctx.Err() == nil {
				h.log.Warn("live: read events", "err", err)
			}
		}
	}
}

// toRead skips the events of batch whose account has no subscription in this
// process and returns the ids of the others, to be read. A skipped event is counted as
// dispatched (lastID, the recheck's window, the ids already sent), as it would have
// been after its read, when it found no subscription either. A subscription that
// opens after the check starts its stream after the event (LastID, which the event's
// commit, before its notification, made at least its id) or replays it from the
// table (Since), which holds it since that commit.
func (h *Hub) toRead(batch []notified) []int64 {
	read := make([]int64, 0, len(batch))
	var skip []int64
	h.mu.Lock()
	for _, n := range batch {
		if n.acct == 0 || len(h.subs[n.acct]) > 0 {
			read = append(read, n.id)
		} else {
			skip = append(skip, n.id)
		}
	}
	h.mu.Unlock()
	for _, id := range skip {
		h.counted(id)
	}
	return read
}

// dispatchIDs reads events by id and dispatches them, in id order (PostgreSQL). The ids
// go as one array: one statement text whatever their number, prepared once per
// connection, where a list of placeholders made a statement for each length (up to 500)
// that took its place in each connection's cache of prepared statements.
func (h *Hub) dispatchIDs(ctx context.Context, batch []int64) error {
	rows, err := h.db.R().QueryContext(ctx, `SELECT `+eventColumns+` FROM live_events WHERE id = ANY(?) ORDER BY id`, batch)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return err
		}
		h.read.Add(1)
		h.dispatch(ev)
	}
	return rows.Err()
}

// catchUp dispatches the events recorded while the listener was not listening.
func (h *Hub) catchUp(ctx context.Context) {
	cond, args := h.after(h.lastID.Load())
	rows, err := h.db.R().QueryContext(ctx, `SELECT `+eventColumns+` FROM live_events WHERE `+cond+` ORDER BY id LIMIT 10000`, args...)
	if err != nil {
		h.log.Warn("live: catch up", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			h.log.Warn("live: catch up", "err", err)
			return
		}
		h.dispatch(ev)
	}
}

// Channel names how a change came: a partner, a trigger, email, the API, an AI, an agent
// or an end user in the help center.
func Channel(ch *ticket.Change) string {
	switch {
	case ch.Origin != nil || ch.Via.ID == ticket.ViaTicketShare:
		return "partner"
	case ch.Via.Channel == "ai":
		return "ai"
	case ch.Via.ID == ticket.ViaRule:
		return "trigger"
	case ch.Via.ID == ticket.ViaMail:
		return "email"
	case ch.Via.ID == ticket.ViaWebForm || ch.Via.ID == ticket.ViaHelpCenter:
		if ch.Actor.IsStaff() {
			return "agent"
		}
		return "help_center"
	}
	return "api"
}

// text renders an audit value (a string, a number, a list, nil) for people.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return strings.Join(x, " ")
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, text(p))
		}
		return strings.Join(parts, " ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
