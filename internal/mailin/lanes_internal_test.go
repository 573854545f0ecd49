package mailin

import (
	"strings"
	"testing"
)

// TestThreadKey: the thread key is the first Message-ID of References, else
// In-Reply-To's, else the message's own, else the sender; header lines and headers
// longer than the reader's buffer are read whole (a folded References of many ids).
func TestThreadKey(t *testing.T) {
	var refs []string
	for i := range 60 {
		refs = append(refs, "<ref-"+strings.Repeat("x", 40)+"-"+string(rune('a'+i%26))+"@mail.test>")
	}
	long := "X-Long: " + strings.Repeat("y", 3000) + "\r\n"
	for _, c := range []struct {
		name, head, want string
	}{
		{"references first", "Message-ID: <own@x.test>\r\nIn-Reply-To: <parent@x.test>\r\nReferences: <root@x.test> <parent@x.test>\r\n\r\nbody", "<root@x.test>"},
		{"in-reply-to", "Message-ID: <own@x.test>\r\nIn-Reply-To: <parent@x.test>\r\n\r\n", "<parent@x.test>"},
		{"own", "Subject: hi\r\nMessage-ID: <own@x.test>\r\n\r\n", "<own@x.test>"},
		{"sender", "Subject: hi\r\n\r\n", "from:jane@x.test"},
		{"after a long line", long + "Message-ID: <own@x.test>\r\n\r\n", "<own@x.test>"},
		{"folded references", "References: " + strings.Join(refs, "\r\n ") + "\r\nMessage-ID: <own@x.test>\r\n\r\n", refs[0]},
		{"a long header", strings.Repeat("X-Pad: 0123456789\r\n", 300) + "In-Reply-To: <late@x.test>\r\n\r\n", "<late@x.test>"},
	} {
		if got := threadKey([]byte(c.head), "jane@x.test"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
