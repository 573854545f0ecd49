package mailin

import "testing"

func TestTrimReply(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"gmail", "Thanks!\n\nOn Mon, Dec 1, 2026 at 10:00 AM Acme <support@acme.test> wrote:\n> old\n> text", "Thanks!"},
		{"gmail wrapped", "Thanks!\n\nOn Mon, Dec 1, 2026 at 10:00 AM Acme Support Team <support@acme.test>\nwrote:\n> old", "Thanks!"},
		{"outlook", "Fixed now.\n\nFrom: Acme Support <support@acme.test>\nSent: Monday, December 1, 2026 10:00\nTo: me\nSubject: Re: x\n\nold", "Fixed now."},
		{"original message", "ok\n-----Original Message-----\nFrom: x", "ok"},
		{"french", "Merci\n\nLe lun. 1 déc. 2026 à 10:00, Acme <s@a.test> a écrit :\n> vieux", "Merci"},
		{"quoted tail", "yes\n\n> did it work?\n>\n> more", "yes"},
		{"signature", "See you.\n-- \nJane Doe\nCustomer Inc.", "See you."},
		{"mobile", "On my way\n\nSent from my iPhone", "On my way"},
		{"inline quote kept", "> you asked\nmy answer\n> and this\nanother", "> you asked\nmy answer\n> and this\nanother"},
		{"only a quote", "> all quoted", "> all quoted"},
		{"delimiter", "new text\n##- Please type your reply above this line -##\nold", "new text"},
		{"forward kept", "FYI\n---------- Forwarded message ---------\nFrom: a\nDate: b\n\nbody", "FYI\n---------- Forwarded message ---------\nFrom: a\nDate: b\n\nbody"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := TrimReply(c.in); got != c.want {
				t.Errorf("TrimReply(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestAuthFailed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		results []string
		id      string
		fail    bool
	}{
		{[]string{"mx.test; dmarc=fail header.from=x"}, "mx.test", true},
		{[]string{"mx.test 1; dkim=fail; spf=fail smtp.mailfrom=x"}, "mx.test", true},
		{[]string{"mx.test; dkim=pass; spf=fail"}, "mx.test", false},
		{[]string{"mx.test; dmarc=pass; spf=fail"}, "mx.test", false},
		{[]string{"evil.test; dmarc=fail"}, "mx.test", false},
		// Only the trusted relay's first (topmost) header counts: a forged one below is ignored.
		{[]string{"mx.test; dmarc=pass", "mx.test; dmarc=fail"}, "mx.test", false},
		{[]string{"mx.test; dmarc=fail"}, "", false},
	}
	for _, c := range cases {
		if got := authFailed(c.results, c.id) != ""; got != c.fail {
			t.Errorf("authFailed(%q, %q) = %v, want %v", c.results, c.id, got, c.fail)
		}
	}
}
