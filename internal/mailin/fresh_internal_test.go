package mailin

import (
	"bytes"
	"testing"
)

// FreshRows is how many stored rows wait in the handoff to the worker (for tests).
func (s *Service) FreshRows() int {
	s.fresh.mu.Lock()
	defer s.fresh.mu.Unlock()
	return len(s.fresh.rows)
}

// TestFreshRows: a row handed over is taken once; a dropped one (its transaction did
// not commit) is not taken; a full handoff, by rows or by bytes, keeps nothing more and
// the bytes it counts come back as rows are taken.
func TestFreshRows(t *testing.T) {
	var f freshRows
	f.put(&inboxRow{ID: 1, AccountID: 1, Raw: []byte("a")})
	f.put(&inboxRow{ID: 2, AccountID: 2, Raw: []byte("b")})
	f.drop(2)
	if r := f.take(1); r == nil || r.AccountID != 1 {
		t.Fatalf("take(1) = %+v", r)
	}
	if r := f.take(1); r != nil {
		t.Fatal("a row taken twice")
	}
	if r := f.take(2); r != nil {
		t.Fatal("a dropped row taken")
	}
	for i := range maxFreshRows + 10 {
		f.put(&inboxRow{ID: int64(100 + i)})
	}
	if len(f.rows) != maxFreshRows {
		t.Fatalf("%d rows kept, bound %d", len(f.rows), maxFreshRows)
	}
	for i := range maxFreshRows + 10 {
		f.take(int64(100 + i))
	}
	big := bytes.Repeat([]byte("x"), maxFreshBytes/2+1)
	f.put(&inboxRow{ID: 1, Raw: big})
	f.put(&inboxRow{ID: 2, Raw: big})
	if f.take(2) != nil || f.take(1) == nil || f.bytes != 0 {
		t.Fatalf("bytes bound: %d bytes counted after taking all", f.bytes)
	}
	f.put(&inboxRow{ID: 2, Raw: big})
	if f.take(2) == nil {
		t.Fatal("a row refused once the bytes were taken back")
	}
}
