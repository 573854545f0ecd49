package clientaddr

import (
	"net/http"
	"testing"
)

func TestAddr(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.168.1.7")
	if err != nil {
		t.Fatal(err)
	}
	res := New(trusted)
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "1.2.3.4", "203.0.113.5"},           // an untrusted peer's header is ignored
		{"10.1.2.3:80", "198.51.100.9", "198.51.100.9"},          // the balancer names the client
		{"10.1.2.3:80", "6.6.6.6, 198.51.100.9", "198.51.100.9"}, // the client's own entry is not believed
		{"10.1.2.3:80", "198.51.100.9, 192.168.1.7", "198.51.100.9"},
		{"10.1.2.3:80", "10.9.9.9", "10.9.9.9"}, // only proxies: the farthest one
		{"10.1.2.3:80", "", "10.1.2.3"},
		{"10.1.2.3:80", "garbage", "10.1.2.3"},
		{"[::ffff:10.1.2.3]:80", "198.51.100.9", "198.51.100.9"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := res.Addr(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if _, err := ParsePrefixes("10.0.0.0/8, nonsense"); err == nil {
		t.Fatal("nonsense parsed")
	}
}
