package mailin

import (
	"bytes"
	"testing"

	"tandem/internal/ids"
)

// FreshRows is how many stored rows wait in the handoff to the worker (for tests).
func (s *Service) FreshRows() int {
	s.fresh.mu.Lock()
	defer s.fresh.mu.Unlock()
	return len(s.fresh.rows)
}

// TestFreshRows: a row handed over is taken once, by the message claimed; a dropped one
// (its transaction did not commit) is not taken; a row kept under an id is not taken
// for another message claimed under that id (SQLite reuses the id of a row that did
// not commit), and a row put under it replaces it even when the handoff is full; a full
// handoff, by rows or by bytes, keeps nothing more, and the bytes it counts come back
// as rows are taken.
func TestFreshRows(t *testing.T) {
	var f freshRows
	claim := func(id int64, acct ids.Account, from, thread string) claimed {
		return claimed{id: id, acct: acct, from: from, thread: thread}
	}
	f.put(&inboxRow{ID: 1, AccountID: 1, MailFrom: "a@x.test", Raw: []byte("a")}, "<t1>")
	f.put(&inboxRow{ID: 2, AccountID: 2, MailFrom: "b@x.test", Raw: []byte("b")}, "<t2>")
	f.drop(2)
	if r := f.take(claim(1, 1, "a@x.test", "<t1>")); r == nil || r.AccountID != 1 {
		t.Fatalf("take(1) = %+v", r)
	}
	if r := f.take(claim(1, 1, "a@x.test", "<t1>")); r != nil {
		t.Fatal("a row taken twice")
	}
	if r := f.take(claim(2, 2, "b@x.test", "<t2>")); r != nil {
		t.Fatal("a dropped row taken")
	}
	// Another account's, another sender's or another thread's message under the id.
	for _, c := range []claimed{claim(3, 2, "a@x.test", "<t3>"), claim(3, 1, "c@x.test", "<t3>"), claim(3, 1, "a@x.test", "<t4>")} {
		f.put(&inboxRow{ID: 3, AccountID: 1, MailFrom: "a@x.test"}, "<t3>")
		if r := f.take(c); r != nil {
			t.Errorf("the row kept under id 3 taken for %+v", c)
		}
		if len(f.rows) != 0 {
			t.Fatal("a row not taken is kept after its id was claimed")
		}
	}
	f.put(&inboxRow{ID: 4, AccountID: 1, MailFrom: "a@x.test"}, "<t5>")
	for i := range maxFreshRows + 10 {
		f.put(&inboxRow{ID: int64(100 + i)}, "")
	}
	if len(f.rows) != maxFreshRows {
		t.Fatalf("%d rows kept, bound %d", len(f.rows), maxFreshRows)
	}
	f.put(&inboxRow{ID: 4, AccountID: 2, MailFrom: "a@x.test"}, "<t5>") // full: not kept, and 4's row is gone
	if r := f.take(claim(4, 1, "a@x.test", "<t5>")); r != nil {
		t.Fatal("a row replaced under its id was taken")
	}
	f.drop(func() []int64 {
		var out []int64
		for id := range f.rows {
			out = append(out, id)
		}
		return out
	}()...)
	big := bytes.Repeat([]byte("x"), maxFreshBytes/2+1)
	f.put(&inboxRow{ID: 1, Raw: big}, "")
	f.put(&inboxRow{ID: 2, Raw: big}, "")
	if f.take(claim(2, 0, "", "")) != nil || f.take(claim(1, 0, "", "")) == nil || f.bytes != 0 {
		t.Fatalf("bytes bound: %d bytes counted after taking all", f.bytes)
	}
	f.put(&inboxRow{ID: 2, Raw: big}, "")
	if f.take(claim(2, 0, "", "")) == nil {
		t.Fatal("a row refused once the bytes were taken back")
	}
}
