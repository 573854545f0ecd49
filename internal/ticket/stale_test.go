package ticket

import (
	"testing"
	"time"
)

// TestStaleStampPrecision: a safe update's stamp is compared at its own precision, so
// the API's whole-second stamps keep working and the agent form's microsecond stamps
// tell two changes within one second apart.
func TestStaleStampPrecision(t *testing.T) {
	updated := time.Date(2026, 12, 6, 4, 0, 0, 123456000, time.UTC)
	for _, c := range []struct {
		name  string
		stamp time.Time
		stale bool
	}{
		{"API stamp, same second", time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC), false},
		{"API stamp, a second before", time.Date(2026, 12, 6, 3, 59, 59, 0, time.UTC), true},
		{"milliseconds, same", time.Date(2026, 12, 6, 4, 0, 0, 123000000, time.UTC), false},
		{"form stamp, same", updated, false},
		{"form stamp, earlier in the same second", time.Date(2026, 12, 6, 4, 0, 0, 100001000, time.UTC), true},
	} {
		if got := stale(updated, c.stamp); got != c.stale {
			t.Errorf("%s: stale = %v, want %v", c.name, got, c.stale)
		}
	}
}
